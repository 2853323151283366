import type { Fault } from './fault.ts';

/** The private Postgres stopped (fast shutdown: connections cut), started again on the same data. */
export const postgresStop: Fault = {
  name: 'postgres-stop',
  summary: 'Postgres stopped 5 s',
  holdMs: 5_000,
  async inject({ services }) {
    await services.postgres.kill();
    return { heal: () => services.postgres.start() };
  },
};
