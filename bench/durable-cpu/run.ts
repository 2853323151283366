/**
 * The command line of durable-cpu-bench.ts (CPU per hold on one durable node).
 *
 *   node --import tsx bench/durable-cpu/run.ts [--checkouts A,B] [--rounds 2]
 *     [--seconds 8] [--warmup 3] [--shows 64] [--confirm-every 2] [--rate 0] [--sample-us 250]
 *     [--save-profiles DIR] [--out bench/results/durable-cpu.json]
 */
import { resolve } from 'node:path';
import { intArg, listArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './durable-cpu-bench.ts';

const USAGE =
  'usage: bench/durable-cpu/run.ts [--checkouts A,B] [--rounds N] [--seconds S] [--warmup S] [--shows N] [--confirm-every N] [--rate R] [--sample-us US] [--save-profiles DIR] [--out FILE]';

runCli(
  'bench durable-cpu',
  async () => {
    const args = parseCli({
      checkouts: { type: 'string' },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      shows: { type: 'string' },
      'confirm-every': { type: 'string' },
      'sample-us': { type: 'string' },
      'save-profiles': { type: 'string' },
      rate: { type: 'string' },
      out: { type: 'string' },
    });
    return run({
      checkouts: listArg(args.checkouts, 'checkouts', ['.']).map((p) => resolve(p)),
      rounds: intArg(args.rounds, 'rounds', 2, 1),
      seconds: intArg(args.seconds, 'seconds', 8, 1),
      warmupSeconds: intArg(args.warmup, 'warmup', 3, 0),
      shows: intArg(args.shows, 'shows', 64, 1),
      confirmEvery: intArg(args['confirm-every'], 'confirm-every', 2, 1),
      rate: intArg(args.rate, 'rate', 0, 0),
      sampleUs: intArg(args['sample-us'], 'sample-us', 250, 50),
      saveProfiles: typeof args['save-profiles'] === 'string' ? resolve(args['save-profiles']) : undefined,
      out: typeof args.out === 'string' ? args.out : undefined,
    });
  },
  USAGE,
);
