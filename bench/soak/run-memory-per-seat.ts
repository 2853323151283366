/**
 * `npm run bench:memory`: the command line of memory-per-seat-bench.ts (needs --expose-gc).
 *
 *   npm run bench:memory -- [--case state|stadium|many-shows] [--stadium-seats 100000]
 *                           [--shows 10000] [--seats-per-show 100]
 */
import { intArg, listArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { CASES, run, SEATS_PER_BIG_ROW, type CaseName } from './memory-per-seat-bench.ts';

runCli('bench:memory', async () => {
  const args = parseCli({
    case: { type: 'string' },
    'stadium-seats': { type: 'string' },
    shows: { type: 'string' },
    'seats-per-show': { type: 'string' },
    child: { type: 'boolean' },
  });
  await run({
    cases: listArg<CaseName>(args.case, 'case', CASES, CASES),
    stadiumSeats: intArg(args['stadium-seats'], 'stadium-seats', 100_000, SEATS_PER_BIG_ROW),
    shows: intArg(args.shows, 'shows', 10_000, 1),
    seatsPerShow: intArg(args['seats-per-show'], 'seats-per-show', 100, 10),
    child: args.child === true,
  });
});
