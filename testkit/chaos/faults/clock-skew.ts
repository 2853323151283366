import { skewedClockEnv, SKEW_METHOD } from '../../skewed-clock.ts';
import type { Fault } from './fault.ts';

const SKEW_MS = 30_000;

/**
 * One worker restarted (same NODE_ID) with its wall clock 30 s ahead (libfaketime, or the
 * test-only CLOCK_OFFSET_FOR_TESTS_MS), left so for the hold time, then restarted with the
 * right clock. Observes whether the skewed worker joined the ring and what offset it measured.
 */
export const clockSkew: Fault = {
  name: 'clock-skew',
  summary: `one worker's clock +${SKEW_MS / 1000} s (${SKEW_METHOD})`,
  holdMs: 8_000,
  async inject({ cluster, victim }) {
    const i = victim();
    const nodeId = cluster.workers[i]!.nodeId;
    await cluster.killWorker(i, 'SIGTERM');
    const w = await cluster.restartWorker(i, skewedClockEnv(SKEW_MS), { waitReady: false });
    let inRing: boolean | null = null;
    let clock: unknown = null;
    return {
      async heal() {
        try {
          inRing = (await cluster.members()).includes(nodeId);
          clock = ((await (await fetch(`${w.url}/v1/cluster/stats`)).json()) as { clock?: unknown }).clock ?? null;
        } catch {
          // observation only
        }
        await cluster.killWorker(i, 'SIGTERM');
        await cluster.restartWorker(i);
      },
      notes: () => ({ skewedWorker: nodeId, skewedWorkerInRing: inRing, measuredClock: clock }),
    };
  },
};

/**
 * The same skew with the bound raised past it, so the skewed worker joins and owns shows: its
 * decisions must still come from the shared clock. The hold probes go to shows it owns.
 */
export const clockSkewOwner: Fault = {
  name: 'clock-skew-owner',
  summary: `clock +${SKEW_MS / 1000} s, bound raised: it owns shows`,
  holdMs: 8_000,
  async inject({ cluster, victim }) {
    const i = victim();
    const nodeId = cluster.workers[i]!.nodeId;
    await cluster.killWorker(i, 'SIGTERM');
    await cluster.restartWorker(i, { ...skewedClockEnv(SKEW_MS), CLOCK_SKEW_MAX_MS: String(2 * SKEW_MS) });
    return {
      probeOwner: nodeId,
      async heal() {
        await cluster.killWorker(i, 'SIGTERM');
        await cluster.restartWorker(i);
      },
      notes: () => ({ skewedWorker: nodeId }),
    };
  },
};
