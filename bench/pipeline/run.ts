/**
 * The command line of pipeline-bench.ts (pipelined commits, PIPELINE_DEPTH 1 against N).
 *
 *   npx tsx bench/pipeline/run.ts [--seconds 3] [--inflight 64] [--shows 1000] [--depths 1,2,4]
 *                                 [--repeat 2] [--workloads hold/release,hold/confirm] [--storages durable,embedded]
 *                                 [--out bench/results/pipeline.json]
 */
import { intArg, listArg, numberArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { PIPELINE_STORAGES, PIPELINE_WORKLOADS, run } from './pipeline-bench.ts';

const USAGE =
  'usage: bench/pipeline/run.ts [--seconds S] [--inflight N] [--shows N] [--depths 1,2,4] [--repeat N] [--workloads hold/release,hold/confirm] [--storages durable,embedded] [--out FILE]';

runCli(
  'bench pipeline',
  async () => {
    const args = parseCli({
      seconds: { type: 'string' },
      inflight: { type: 'string' },
      shows: { type: 'string' },
      depths: { type: 'string' },
      repeat: { type: 'string' },
      workloads: { type: 'string' },
      storages: { type: 'string' },
      out: { type: 'string' },
    });
    return run({
      seconds: numberArg(args.seconds, 'seconds', 3, 0.2),
      inflight: intArg(args.inflight, 'inflight', 64, 1),
      shows: intArg(args.shows, 'shows', 1000, 2),
      depths: listArg(args.depths, 'depths', ['1', '2', '4']).map((d) => intArg(d, 'depths', 1, 1)),
      repeat: intArg(args.repeat, 'repeat', 2, 1),
      workloads: listArg(args.workloads, 'workloads', PIPELINE_WORKLOADS, PIPELINE_WORKLOADS),
      storages: listArg(args.storages, 'storages', PIPELINE_STORAGES, PIPELINE_STORAGES),
      out: typeof args.out === 'string' ? args.out : undefined,
    });
  },
  USAGE,
);
