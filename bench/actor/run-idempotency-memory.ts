/**
 * What one remembered idempotency key costs a show (idempotency-memory-bench.ts).
 *
 *   node --expose-gc --import tsx bench/actor/run-idempotency-memory.ts [--keys 1024]
 */
import { intArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './idempotency-memory-bench.ts';

runCli('idempotency-memory', async () => {
  const args = parseCli({ keys: { type: 'string' } });
  await run({ keys: intArg(args.keys, 'keys', 1024, 1) });
});
