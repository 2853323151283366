/**
 * `npm run bench`: the command line of actor-bench.ts.
 *
 *   npm run bench -- [--seconds 3] [--inflight 256]
 */
import { intArg, numberArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './actor-bench.ts';

runCli('bench', async () => {
  const args = parseCli({ seconds: { type: 'string' }, inflight: { type: 'string' } });
  await run({ seconds: numberArg(args.seconds, 'seconds', 3, 0.1), inflight: intArg(args.inflight, 'inflight', 256, 1) });
});
