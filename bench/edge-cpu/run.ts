/**
 * The command line of edge-cpu-bench.ts (where a request's CPU goes on one node).
 *
 *   node --import tsx bench/edge-cpu/run.ts [--checkouts A,B] [--rounds 3]
 *     [--seconds 6] [--warmup 2] [--concurrency 32] [--shows 4] [--confirm-every 4]
 *     [--rate 0] [--sample-us 200] [--save-profiles DIR] [--out bench/results/edge-cpu.json]
 */
import { intArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { CHECKOUT_FLAGS, checkoutArgs, PROFILED_LOAD_FLAGS, profiledLoadArgs } from '../lib/cpu-bench-args.ts';
import { run } from './edge-cpu-bench.ts';

const USAGE =
  'usage: bench/edge-cpu/run.ts [--checkouts A,B] [--rounds N] [--seconds S] [--warmup S] [--concurrency N] [--shows N] [--confirm-every N] [--rate R] [--sample-us US] [--save-profiles DIR] [--out FILE]';

runCli(
  'bench edge-cpu',
  async () => {
    const args = parseCli({ ...CHECKOUT_FLAGS, ...PROFILED_LOAD_FLAGS, concurrency: { type: 'string' } });
    return run({
      ...checkoutArgs(args, { rounds: 3 }),
      ...profiledLoadArgs(args, { seconds: 6, warmupSeconds: 2, shows: 4, confirmEvery: 4, sampleUs: 200 }),
      concurrency: intArg(args.concurrency, 'concurrency', 32, 1),
    });
  },
  USAGE,
);
