/**
 * The command line of jetstream-packing-bench.ts (k show batches per JetStream message).
 *
 *   npx tsx bench/jetstream-packing/run.ts [--packing 1,2,5,10,20] [--batches 20000] [--batch-bytes 300]
 *                                          [--shows 1000] [--in-flight 64] [--rounds 2]
 *                                          [--out bench/results/jetstream-packing.json]
 */
import { intArg, listArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './jetstream-packing-bench.ts';

const USAGE =
  'usage: bench/jetstream-packing/run.ts [--packing 1,2,5,10,20] [--batches N] [--batch-bytes N] [--shows N] [--in-flight N] [--rounds N] [--out FILE]';

runCli(
  'bench jetstream-packing',
  async () => {
    const args = parseCli({
      packing: { type: 'string' },
      batches: { type: 'string' },
      'batch-bytes': { type: 'string' },
      shows: { type: 'string' },
      'in-flight': { type: 'string' },
      rounds: { type: 'string' },
      out: { type: 'string' },
    });
    const packing = listArg(args.packing, 'packing', ['1', '2', '5', '10', '20']).map((k) => intArg(k, 'packing', 1, 1));
    return run({
      packing: [...new Set(packing)],
      batches: intArg(args.batches, 'batches', 20_000, 1),
      batchBytes: intArg(args['batch-bytes'], 'batch-bytes', 300, 1),
      shows: intArg(args.shows, 'shows', 1000, 1),
      inFlight: intArg(args['in-flight'], 'in-flight', 64, 1),
      rounds: intArg(args.rounds, 'rounds', 2, 1),
      out: typeof args.out === 'string' ? args.out : undefined,
    });
  },
  USAGE,
);
