/**
 * The command line of storage-bench.ts (the embedded event log's appends and group commit).
 *
 *   npx tsx bench/storage/run.ts [--seconds 3] [--shows 1000] [--events 8] [--dir <parent dir>]
 */
import { intArg, numberArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './storage-bench.ts';

runCli('bench storage', async () => {
  const args = parseCli({ seconds: { type: 'string' }, shows: { type: 'string' }, events: { type: 'string' }, dir: { type: 'string' } });
  await run({
    seconds: numberArg(args.seconds, 'seconds', 3, 0.1),
    shows: intArg(args.shows, 'shows', 1000, 1),
    events: intArg(args.events, 'events', 8, 1),
    dir: args.dir as string | undefined,
  });
});
