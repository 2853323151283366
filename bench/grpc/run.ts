/**
 * The command line of grpc-bench.ts (unary Hold/Release against the gRPC server beside a bare echo server).
 *
 *   node --import tsx bench/grpc/run.ts [--duration 10] [--warmup 2] [--in-flight 100]
 *        [--rounds 5] [--grpc host:port --admin-token T] [--out bench/results/grpc.json]
 */
import { intArg, numberArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { run } from './grpc-bench.ts';

runCli('bench grpc', async () => {
  const args = parseCli({
    duration: { type: 'string' },
    warmup: { type: 'string' },
    'in-flight': { type: 'string' },
    rounds: { type: 'string' },
    grpc: { type: 'string' },
    'admin-token': { type: 'string' },
    out: { type: 'string' },
  });
  await run({
    durationSec: numberArg(args.duration, 'duration', 10, 1),
    warmupSec: numberArg(args.warmup, 'warmup', 2, 0),
    inFlight: intArg(args['in-flight'], 'in-flight', 100, 1),
    rounds: intArg(args.rounds, 'rounds', 5, 1),
    grpc: args.grpc as string | undefined,
    adminToken: args['admin-token'] as string | undefined,
    out: args.out as string | undefined,
  });
});
