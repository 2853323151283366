/**
 * Child process of bench/grpc/run.ts: one in-memory seat node behind the real gRPC server.
 * Prints {"port":N,"adminToken":"..."} once listening.
 */
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { startGrpcServer } from '../../src/gateway/grpc/index.ts';
import { createEdgeLimiter, NO_RATE_LIMITS } from '../../src/gateway/limits/index.ts';
import { createSeatNode } from '../../src/node.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';

// Warnings to stderr only: stdout carries the handshake line.
const logger = pino({ level: 'warn' }, pino.destination(2));
const adminToken = randomBytes(16).toString('hex');
const node = createSeatNode(
  { holdTokenSecret: randomBytes(32).toString('hex'), snapshotEveryEvents: 5_000, snapshotEveryMs: 60_000 },
  openMemoryStorage(logger),
  logger,
);
// Every call comes from one loopback address: the rate limits and the per-address stream share
// are switched off explicitly (the bench measures the gRPC path, not the limits).
const server = await startGrpcServer({
  service: node.service,
  adminToken,
  host: '127.0.0.1',
  port: 0,
  logger,
  limiter: createEdgeLimiter(NO_RATE_LIMITS, { kind: 'memory' }, logger),
  watchLimits: { maxWatchersPerAddress: 0 },
});
process.stdout.write(`${JSON.stringify({ port: server.port, adminToken })}\n`);
process.on('SIGTERM', () => {
  void server
    .close()
    .then(() => node.close())
    .then(() => process.exit(0));
});
