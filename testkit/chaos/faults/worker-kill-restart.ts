import type { Fault } from './fault.ts';

/** One worker SIGKILLed, then started again under the same NODE_ID. */
export const workerKillRestart: Fault = {
  name: 'worker-sigkill',
  summary: 'SIGKILL a worker, restart it',
  holdMs: 1_000,
  async inject({ cluster, victim }) {
    const i = victim();
    await cluster.killWorker(i, 'SIGKILL');
    return { heal: async () => void (await cluster.restartWorker(i)) };
  },
};
