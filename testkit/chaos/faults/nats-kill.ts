import type { Fault } from './fault.ts';

/** nats-server SIGKILLed; restarted on the same port and JetStream store dir. */
export const natsKill: Fault = {
  name: 'nats-kill',
  summary: 'nats-server killed 5 s',
  holdMs: 5_000,
  async inject({ services }) {
    await services.nats.kill();
    return { heal: () => services.nats.start() };
  },
};
