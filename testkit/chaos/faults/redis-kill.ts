import type { Fault } from './fault.ts';

/** redis-server SIGKILLed; restarted empty (no persistence) on the same port. */
export const redisKill: Fault = {
  name: 'redis-kill',
  summary: 'Redis killed 5 s',
  holdMs: 5_000,
  async inject({ services }) {
    await services.redis.kill();
    return { heal: () => services.redis.start() };
  },
};
