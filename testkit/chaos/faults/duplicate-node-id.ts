import type { Fault } from './fault.ts';

/**
 * A second process started with a live worker's NODE_ID (an operator's mistake). Refused
 * means it exited (before or after it started listening) within the hold time; otherwise it
 * is SIGKILLed at heal (SIGKILL: a graceful leave would remove the live worker's membership).
 */
export const duplicateNodeId: Fault = {
  name: 'duplicate-node-id',
  summary: 'a duplicate NODE_ID started',
  holdMs: 5_000,
  async inject({ cluster, victim }) {
    const nodeId = cluster.workers[victim()]!.nodeId;
    let refusedAtStart = false;
    let startError = '';
    let dup: Awaited<ReturnType<typeof cluster.addWorker>> | null = null;
    try {
      dup = await cluster.addWorker({}, { nodeId, waitReady: false });
    } catch (err) {
      refusedAtStart = true;
      startError = String(err).split('\n')[0] ?? '';
    }
    let exitedDuringFault = false;
    return {
      async heal() {
        if (!dup) return;
        exitedDuringFault = !dup.alive;
        if (dup.alive) {
          dup.proc.kill('SIGKILL');
          await dup.exited;
        }
      },
      notes: () => ({
        nodeId,
        refused: refusedAtStart || exitedDuringFault,
        refusedAtStart,
        exitedDuringFault,
        ...(startError ? { startError } : {}),
      }),
    };
  },
};
