/**
 * The command line of group-commit-bench.ts (booking group commit off / on-1 / on-2).
 *
 *   npx tsx bench/group-commit/run.ts [--shows 200] [--inflight 200] [--seconds 3] [--rounds 3]
 *                                     [--modes off,on-1,on-2] [--out bench/results/group-commit.json]
 */
import { intArg, listArg, numberArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { GROUP_COMMIT_MODES, run } from './group-commit-bench.ts';

const USAGE = 'usage: bench/group-commit/run.ts [--shows N] [--inflight N] [--seconds S] [--rounds N] [--modes off,on-1,on-2] [--out FILE]';

runCli(
  'bench group-commit',
  async () => {
    const args = parseCli({
      shows: { type: 'string' },
      inflight: { type: 'string' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      modes: { type: 'string' },
      out: { type: 'string' },
    });
    const shows = intArg(args.shows, 'shows', 200, 1);
    return run({
      shows,
      inflight: intArg(args.inflight, 'inflight', shows, 1),
      seconds: numberArg(args.seconds, 'seconds', 3, 0.2),
      rounds: intArg(args.rounds, 'rounds', 3, 1),
      modes: listArg(args.modes, 'modes', GROUP_COMMIT_MODES, GROUP_COMMIT_MODES),
      out: typeof args.out === 'string' ? args.out : undefined,
    });
  },
  USAGE,
);
