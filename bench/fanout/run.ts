// The command line of fanout-bench.ts (one show, N watchers, the gateway beside a bare ws broadcast).
//
//   node --import tsx bench/fanout/run.ts [--sizes 1000,5000,10000] [--rate 200] [--duration 8]
//        [--warmup 2] [--tick 50] [--ws ws://host:port/v1/ws --url http://host:port --admin-token T]
import { ArgError, intArg, listArg, numberArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './fanout-bench.ts';

runCli('bench fanout', async () => {
  const flags = parseCli({
    sizes: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    tick: { type: 'string' },
    ws: { type: 'string' },
    url: { type: 'string' },
    'admin-token': { type: 'string' },
    out: { type: 'string' },
  });
  const ws = flags.ws as string | undefined;
  if (ws !== undefined && (!flags.url || !flags['admin-token']))
    throw new ArgError('--ws needs --url and --admin-token (to create the show and change seats over HTTP)');
  await run({
    sizes: listArg(flags.sizes, 'sizes', ['1000', '5000', '10000']).map(Number),
    rate: numberArg(flags.rate, 'rate', 200, 1),
    durationSec: numberArg(flags.duration, 'duration', 8, 0.5),
    warmupSec: numberArg(flags.warmup, 'warmup', 2, 0),
    tickMs: intArg(flags.tick, 'tick', 50, 1),
    external: ws === undefined ? undefined : { ws, url: flags.url as string, adminToken: flags['admin-token'] as string },
    out: (flags.out as string | undefined) ?? 'bench/results/fanout.json',
  });
});
