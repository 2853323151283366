/**
 * `npm run chaos`: the command line of chaos-bench.ts.
 *
 *   npm run chaos -- [--faults redis-kill,nats-kill] [--customers 16] [--shows 6] [--settle-ms 5000] [--out path]
 */
import { ALL_FAULTS } from '../../testkit/chaos/faults/index.ts';
import { intArg, listArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './chaos-bench.ts';

runCli('chaos', async () => {
  const args = parseCli({
    faults: { type: 'string' },
    customers: { type: 'string' },
    shows: { type: 'string' },
    'settle-ms': { type: 'string' },
    out: { type: 'string' },
  });
  const all = ALL_FAULTS.map((f) => f.name);
  const names = listArg(args.faults, 'faults', all, all);
  return run({
    faults: ALL_FAULTS.filter((f) => names.includes(f.name)),
    customers: intArg(args.customers, 'customers', 16, 1),
    shows: intArg(args.shows, 'shows', 6, 1),
    settleMs: intArg(args['settle-ms'], 'settle-ms', 5_000, 1_000),
    out: args.out as string | undefined,
  });
});
