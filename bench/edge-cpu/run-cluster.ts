/**
 * The command line of cluster-bench.ts (where a request's CPU goes through the cluster).
 *
 *   node --import tsx bench/edge-cpu/run-cluster.ts [--seconds 6] [--warmup 3] [--concurrency 32]
 *     [--shows 4] [--confirm-every 4] [--rate 0] [--sample-us 200] [--save-profiles DIR] [--out bench/results/edge-cpu-cluster.json]
 */
import { resolve } from 'node:path';
import { intArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './cluster-bench.ts';

const USAGE =
  'usage: bench/edge-cpu/run-cluster.ts [--seconds S] [--warmup S] [--concurrency N] [--shows N] [--confirm-every N] [--rate R] [--sample-us US] [--save-profiles DIR] [--out FILE]';

runCli(
  'bench edge-cpu cluster',
  async () => {
    const args = parseCli({
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
      seconds: intArg(args.seconds, 'seconds', 6, 1),
      warmupSeconds: intArg(args.warmup, 'warmup', 3, 0),
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
