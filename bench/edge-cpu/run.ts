/**
 * The command line of edge-cpu-bench.ts (where a request's CPU goes on one node).
 *
 *   node --import tsx bench/edge-cpu/run.ts [--checkouts A,B] [--rounds 3]
 *     [--seconds 6] [--warmup 2] [--concurrency 32] [--shows 4] [--confirm-every 4]
 *     [--rate 0] [--sample-us 200] [--save-profiles DIR] [--out bench/results/edge-cpu.json]
 */
import { resolve } from 'node:path';
import { intArg, listArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './edge-cpu-bench.ts';

const USAGE =
  'usage: bench/edge-cpu/run.ts [--checkouts A,B] [--rounds N] [--seconds S] [--warmup S] [--concurrency N] [--shows N] [--confirm-every N] [--rate R] [--sample-us US] [--save-profiles DIR] [--out FILE]';

runCli(
  'bench edge-cpu',
  async () => {
    const args = parseCli({
      checkouts: { type: 'string' },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      shows: { type: 'string' },
      'confirm-every': { type: 'string' },
      'sample-us': { type: 'string' },
      rate: { type: 'string' },
      'save-profiles': { type: 'string' },
      out: { type: 'string' },
    });
    return run({
      checkouts: listArg(args.checkouts, 'checkouts', ['.']).map((p) => resolve(p)),
      rounds: intArg(args.rounds, 'rounds', 3, 1),
      seconds: intArg(args.seconds, 'seconds', 6, 1),
      warmupSeconds: intArg(args.warmup, 'warmup', 2, 0),
      concurrency: intArg(args.concurrency, 'concurrency', 32, 1),
      shows: intArg(args.shows, 'shows', 4, 1),
      confirmEvery: intArg(args['confirm-every'], 'confirm-every', 4, 1),
      rate: intArg(args.rate, 'rate', 0, 0),
      sampleUs: intArg(args['sample-us'], 'sample-us', 200, 50),
      saveProfiles: typeof args['save-profiles'] === 'string' ? resolve(args['save-profiles']) : undefined,
      out: typeof args.out === 'string' ? args.out : undefined,
    });
  },
  USAGE,
);
