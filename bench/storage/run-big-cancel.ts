/**
 * The command line of big-cancel-bench.ts (one command bigger than one log record).
 *
 *   npx tsx bench/storage/run-big-cancel.ts [--bookings 150000] [--dir <parent dir>]
 */
import { intArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './big-cancel-bench.ts';

runCli('bench storage big-cancel', async () => {
  const args = parseCli({ bookings: { type: 'string' }, dir: { type: 'string' } });
  await run({ bookings: intArg(args.bookings, 'bookings', 150_000, 1), dir: args.dir as string | undefined });
});
