/**
 * `npm run bench:cluster`: the command line of cluster-bench.ts.
 *
 *   node --import tsx bench/cluster/run.ts [--hop-seconds 5] [--seconds 8] [--workers 1,2,3]
 *     [--concurrency 64] [--in-flight 512] [--phases hop,cluster,failover] [--out bench/results/cluster.json]
 */
import { intArg, listArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { CLUSTER_PHASES, run } from './cluster-bench.ts';

runCli('bench:cluster', async () => {
  const args = parseCli({
    'hop-seconds': { type: 'string' },
    seconds: { type: 'string' },
    workers: { type: 'string' },
    concurrency: { type: 'string' },
    'in-flight': { type: 'string' },
    phases: { type: 'string' },
    out: { type: 'string' },
  });
  return run({
    phases: listArg(args.phases, 'phases', CLUSTER_PHASES, CLUSTER_PHASES),
    hopSeconds: intArg(args['hop-seconds'], 'hop-seconds', 5, 1),
    seconds: intArg(args.seconds, 'seconds', 8, 1),
    workerCounts: listArg(args.workers, 'workers', ['1', '2', '3']).map(Number),
    concurrency: intArg(args.concurrency, 'concurrency', 64, 1),
    inFlight: intArg(args['in-flight'], 'in-flight', 512, 1),
    out: args.out as string | undefined,
  });
});
