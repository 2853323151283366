import type { Fault } from './fault.ts';

/** One worker SIGSTOPped for 3 s, then SIGCONTed. */
export const workerPause: Fault = {
  name: 'worker-sigstop',
  summary: 'SIGSTOP 3 s, then SIGCONT',
  holdMs: 3_000,
  async inject({ cluster, victim }) {
    const i = victim();
    await cluster.killWorker(i, 'SIGSTOP');
    return { heal: async () => void (await cluster.killWorker(i, 'SIGCONT')) };
  },
};
