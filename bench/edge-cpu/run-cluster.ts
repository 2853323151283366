/**
 * The command line of cluster-bench.ts (where a request's CPU goes through the cluster).
 *
 *   node --import tsx bench/edge-cpu/run-cluster.ts [--checkouts A,B] [--rounds 1, or 3 with several checkouts]
 *     [--seconds 6] [--warmup 3] [--concurrency 32] [--shows 4] [--confirm-every 4] [--rate 0]
 *     [--sample-us 200] [--save-profiles DIR] [--out bench/results/edge-cpu-cluster.json]
 */
import { intArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { CHECKOUT_FLAGS, checkoutArgs, PROFILED_LOAD_FLAGS, profiledLoadArgs } from '../lib/cpu-bench-args.ts';
import { run } from './cluster-bench.ts';

const USAGE =
  'usage: bench/edge-cpu/run-cluster.ts [--checkouts A,B] [--rounds N] [--seconds S] [--warmup S] [--concurrency N] [--shows N] [--confirm-every N] [--rate R] [--sample-us US] [--save-profiles DIR] [--out FILE]';

runCli(
  'bench edge-cpu cluster',
  async () => {
    const args = parseCli({ ...CHECKOUT_FLAGS, ...PROFILED_LOAD_FLAGS, concurrency: { type: 'string' } });
    return run({
      // One cluster run by default, as before; a comparison gets bench:edge's three rounds.
      ...checkoutArgs(args, { rounds: 1, roundsComparing: 3 }),
      ...profiledLoadArgs(args, { seconds: 6, warmupSeconds: 3, shows: 4, confirmEvery: 4, sampleUs: 200 }),
      concurrency: intArg(args.concurrency, 'concurrency', 32, 1),
    });
  },
  USAGE,
);
