/**
 * The command line of reports-bench.ts (the report and one seat's history on a stadium).
 *
 *   npx tsx bench/reports/run.ts [--rows 200] [--per-row 500] [--holds 20000]
 */
import { intArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './reports-bench.ts';

runCli('bench reports', async () => {
  const args = parseCli({ rows: { type: 'string' }, 'per-row': { type: 'string' }, holds: { type: 'string' } });
  await run({
    rows: intArg(args.rows, 'rows', 200, 1),
    perRow: intArg(args['per-row'], 'per-row', 500, 4),
    holds: intArg(args.holds, 'holds', 20_000, 1),
  });
});
