/**
 * `npm run bench:cluster:big-show`: the command line of big-show-bench.ts.
 *
 *   npm run bench:cluster:big-show -- [--phases reads,sale] [--reads 7] [--seats 100000,200000]
 *     [--bookings 100000] [--seats-per-booking 1] [--concurrency 48] [--member-ttl-ms <ms>]
 *     [--out bench/results/cluster-big-show.json]
 */
import { intArg, listArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { BIG_SHOW_PHASES, run } from './big-show-bench.ts';

runCli('bench:cluster:big-show', async () => {
  const args = parseCli({
    phases: { type: 'string' },
    reads: { type: 'string' },
    seats: { type: 'string' },
    bookings: { type: 'string' },
    'seats-per-booking': { type: 'string' },
    concurrency: { type: 'string' },
    'member-ttl-ms': { type: 'string' },
    out: { type: 'string' },
  });
  return run({
    phases: listArg(args.phases, 'phases', BIG_SHOW_PHASES, BIG_SHOW_PHASES),
    reads: intArg(args.reads, 'reads', 7, 1),
    seats: listArg(args.seats, 'seats', ['100000', '200000']).map(Number),
    bookings: intArg(args.bookings, 'bookings', 100_000, 1),
    seatsPerBooking: intArg(args['seats-per-booking'], 'seats-per-booking', 1, 1),
    concurrency: intArg(args.concurrency, 'concurrency', 48, 1),
    memberTtlMs: args['member-ttl-ms'] === undefined ? undefined : intArg(args['member-ttl-ms'], 'member-ttl-ms', 0, 1),
    out: args.out as string | undefined,
  });
});
