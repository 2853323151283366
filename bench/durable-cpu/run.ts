/**
 * The command line of durable-cpu-bench.ts (CPU per hold on one durable node).
 *
 *   node --import tsx bench/durable-cpu/run.ts [--checkouts A,B] [--rounds 2]
 *     [--seconds 8] [--warmup 3] [--shows 64] [--confirm-every 2] [--rate 0] [--sample-us 250]
 *     [--save-profiles DIR] [--out bench/results/durable-cpu.json]
 */
import { parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { CHECKOUT_FLAGS, checkoutArgs, PROFILED_LOAD_FLAGS, profiledLoadArgs } from '../lib/cpu-bench-args.ts';
import { run } from './durable-cpu-bench.ts';

const USAGE =
  'usage: bench/durable-cpu/run.ts [--checkouts A,B] [--rounds N] [--seconds S] [--warmup S] [--shows N] [--confirm-every N] [--rate R] [--sample-us US] [--save-profiles DIR] [--out FILE]';

runCli(
  'bench durable-cpu',
  async () => {
    const args = parseCli({ ...CHECKOUT_FLAGS, ...PROFILED_LOAD_FLAGS });
    return run({
      ...checkoutArgs(args, { rounds: 2 }),
      ...profiledLoadArgs(args, { seconds: 8, warmupSeconds: 3, shows: 64, confirmEvery: 2, sampleUs: 250 }),
    });
  },
  USAGE,
);
