import { Counter, Histogram, type Metric } from 'prom-client';
import { registry } from '../metrics.ts';

/**
 * Metrics of the booking upserts on the process registry: rows per statement (how well
 * group commit merges shows) and statements by outcome (their rate is statements/s).
 * Module scope and get-or-create, so several stores in one process share them.
 */

function getOrCreate<T extends Metric>(name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

const statementRows = getOrCreate(
  'seat_booking_statement_rows',
  () =>
    new Histogram({
      name: 'seat_booking_statement_rows',
      help: 'Booking rows carried by one upsert statement (many shows share one under group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 5000],
      registers: [registry],
    }),
);

const statements = getOrCreate(
  'seat_booking_statements_total',
  () =>
    new Counter({
      name: 'seat_booking_statements_total',
      help: 'Booking upsert statements sent to Postgres, by outcome (ok, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
);

export function recordBookingStatement(rows: number, ok: boolean): void {
  statementRows.observe(rows);
  statements.inc({ outcome: ok ? 'ok' : 'failed' });
}
