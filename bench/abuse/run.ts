// `npm run bench:abuse`: the command line of reads-bench.ts (does re-reading a big seat map
// stall everyone else?).
//
//   npm run bench:abuse -- [--seats 200000] [--clients 8] [--duration 10] [--idle 5]
//                          [--probe-interval 5] [--out bench/results/abuse.json]
//                          [--server-node-args "--cpu-prof --cpu-prof-dir=/tmp/prof"]
import { intArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './reads-bench.ts';

runCli('bench:abuse', async () => {
  const flags = parseCli({
    seats: { type: 'string' },
    clients: { type: 'string' },
    duration: { type: 'string' },
    idle: { type: 'string' },
    'probe-interval': { type: 'string' },
    out: { type: 'string' },
    'server-node-args': { type: 'string' },
  });
  await run({
    seats: intArg(flags.seats, 'seats', 200_000, 1000),
    clients: intArg(flags.clients, 'clients', 8, 1),
    durationMs: intArg(flags.duration, 'duration', 10, 1) * 1000,
    idleMs: intArg(flags.idle, 'idle', 5, 1) * 1000,
    probeIntervalMs: intArg(flags['probe-interval'], 'probe-interval', 5, 0),
    serverNodeArgs: typeof flags['server-node-args'] === 'string' ? flags['server-node-args'].split(' ').filter(Boolean) : [],
    out: flags.out as string | undefined,
  });
});
