/**
 * The command line of pieces-bench.ts (the edge's per-request pieces, timed in process).
 *
 *   node --import tsx bench/edge-cpu/run-pieces.ts [--checkouts A,B] [--rounds 5] [--n 200000]
 *     [--out bench/results/edge-cpu-pieces.json]
 */
import { intArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { CHECKOUT_FLAGS, checkoutArgs } from '../lib/cpu-bench-args.ts';
import { run } from './pieces-bench.ts';

const USAGE = 'usage: bench/edge-cpu/run-pieces.ts [--checkouts A,B] [--rounds N] [--n CALLS] [--out FILE]';

runCli(
  'bench edge-cpu pieces',
  async () => {
    const args = parseCli({ ...CHECKOUT_FLAGS, n: { type: 'string' }, out: { type: 'string' } });
    return run({
      ...checkoutArgs(args, { rounds: 5 }),
      n: intArg(args.n, 'n', 200_000, 1000),
      out: typeof args.out === 'string' ? args.out : undefined,
    });
  },
  USAGE,
);
