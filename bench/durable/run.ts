/**
 * The command line of durable-bench.ts (the seat service on each storage).
 *
 *   npx tsx bench/durable/run.ts [--seconds 3] [--inflight 64] [--shows 1000] [--seats 100000] [--events 10000]
 *                                [--storages memory,embedded,durable,durable-no-bookings] [--phases load,recovery]
 *                                [--workloads hold/release,hold/confirm] [--booking-writes 4]
 */
import { intArg, listArg, numberArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { DURABLE_PHASES, KINDS, run, WORKLOADS_ALL } from './durable-bench.ts';

runCli('bench durable', async () => {
  const args = parseCli({
    seconds: { type: 'string' },
    inflight: { type: 'string' },
    shows: { type: 'string' },
    seats: { type: 'string' },
    events: { type: 'string' },
    storages: { type: 'string' },
    phases: { type: 'string' },
    'booking-writes': { type: 'string' },
    workloads: { type: 'string' },
  });
  return run({
    seconds: numberArg(args.seconds, 'seconds', 3, 0.2),
    inflight: intArg(args.inflight, 'inflight', 64, 1),
    shows: intArg(args.shows, 'shows', 1000, 1),
    recoverySeats: intArg(args.seats, 'seats', 100_000, 250),
    recoveryEvents: intArg(args.events, 'events', 10_000, 1),
    storages: listArg(args.storages, 'storages', KINDS, KINDS),
    phases: listArg(args.phases, 'phases', DURABLE_PHASES, DURABLE_PHASES),
    workloads: listArg(args.workloads, 'workloads', WORKLOADS_ALL, WORKLOADS_ALL),
    bookingWrites: args['booking-writes'] === undefined ? undefined : intArg(args['booking-writes'], 'booking-writes', 4, 1),
  });
});
