/**
 * `npm run bench:soak`: the command line of soak-bench.ts.
 *
 *   npm run bench:soak -- [--minutes 10] [--small-shows 1000] [--big-seats 100000]
 *                         [--clients 8] [--watchers 24] [--sample-sec 10] [--hold-ttl 3]
 *                         [--layout-every-sec 5] [--warm-up 0.2] [--raw-heap] [--out path]
 */
import { intArg, numberArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './soak-bench.ts';

runCli('bench:soak', async () => {
  const args = parseCli({
    minutes: { type: 'string' },
    'small-shows': { type: 'string' },
    'big-seats': { type: 'string' },
    clients: { type: 'string' },
    watchers: { type: 'string' },
    'sample-sec': { type: 'string' },
    'hold-ttl': { type: 'string' },
    'layout-every-sec': { type: 'string' },
    'warm-up': { type: 'string' },
    'raw-heap': { type: 'boolean' },
    out: { type: 'string' },
  });
  await run({
    minutes: numberArg(args.minutes, 'minutes', 10, 0.1),
    smallShows: intArg(args['small-shows'], 'small-shows', 1000, 0),
    bigSeats: intArg(args['big-seats'], 'big-seats', 100_000, 2),
    clients: intArg(args.clients, 'clients', 8, 1),
    watchers: intArg(args.watchers, 'watchers', 24, 0),
    sampleSec: numberArg(args['sample-sec'], 'sample-sec', 10, 1),
    holdTtlSeconds: intArg(args['hold-ttl'], 'hold-ttl', 3, 1),
    layoutEverySec: numberArg(args['layout-every-sec'], 'layout-every-sec', 5, 0.5),
    warmUpFraction: numberArg(args['warm-up'], 'warm-up', 0.2, 0),
    gcBeforeSample: args['raw-heap'] !== true,
    out: args.out as string | undefined,
  });
});
