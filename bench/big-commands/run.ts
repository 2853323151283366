/**
 * The command line of big-commands-bench.ts (a stadium's cancellation on JetStream).
 *
 *   npx tsx bench/big-commands/run.ts [--rows 400] [--per-row 500] [--bookings 100000]
 */
import { intArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './big-commands-bench.ts';

runCli('big-commands', async () => {
  const args = parseCli({ rows: { type: 'string' }, 'per-row': { type: 'string' }, bookings: { type: 'string' } });
  await run({
    rows: intArg(args.rows, 'rows', 400, 1),
    perRow: intArg(args['per-row'], 'per-row', 500, 1),
    bookings: intArg(args.bookings, 'bookings', 100_000, 1),
  });
});
