import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';
import { EdgeIdentity, type EdgeIdentityOptions } from '../../src/gateway/caller.ts';
import { startGrpcServer, type GrpcServerHandle, type GrpcServerOptions } from '../../src/gateway/grpc/index.ts';
import { createEdgeLimiter, NO_RATE_LIMITS } from '../../src/gateway/limits/index.ts';
import { logger } from '../../src/logger.ts';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openMemoryStorage, type Storage } from '../../src/persistence/index.ts';
import type { SeatService } from '../../src/service/seat-service.ts';

/**
 * A seat node with the gRPC server on port 0, and clients generated at run time from the
 * contract files (not from the server's own loader), so the tests exercise the wire format
 * a third-party client sees.
 */

export const ADMIN_TOKEN = 'grpc-test-admin-token-0123';
const SEATS_PROTO = fileURLToPath(new URL('../../proto/seats.proto', import.meta.url));
const HEALTH_PROTO = fileURLToPath(new URL('../../proto/health.proto', import.meta.url));

const pkg = grpc.loadPackageDefinition(
  protoLoader.loadSync([SEATS_PROTO, HEALTH_PROTO], { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true }),
) as any;

export type Client = grpc.Client & Record<string, any>;

export interface Harness {
  node: SeatNode;
  server: GrpcServerHandle;
  client: Client;
  health: Client;
  /** Live service.watch subscriptions made through the server (to see streams clean up). */
  watchers: () => number;
  stop(): Promise<void>;
}

/**
 * Limits are off unless `opts` sets them: the tests make many calls and streams from one
 * loopback address.
 */
export async function startHarness(
  opts: {
    identity?: EdgeIdentityOptions;
    /** Default: fresh memory storage (which archives nothing). */
    storage?: Storage;
    /** The actor host's clock; with it, the node's key retention in seconds. */
    clock?: () => number;
    idempotencyRetentionSeconds?: number;
  } & Pick<GrpcServerOptions, 'limiter' | 'watchLimits' | 'trustedProxies'> = {},
): Promise<Harness> {
  const node = createSeatNode(
    {
      holdTokenSecret: 'grpc-test-hold-token-secret-0123',
      snapshotEveryEvents: 100_000,
      snapshotEveryMs: 3_600_000,
      ...(opts.idempotencyRetentionSeconds ? { idempotencyRetentionSeconds: opts.idempotencyRetentionSeconds } : {}),
    },
    opts.storage ?? openMemoryStorage(logger),
    logger,
    [],
    opts.clock ? { now: opts.clock } : {},
  );
  let watchers = 0;
  // The real service, with watch() counted: a closed stream must give its subscription back.
  const service: SeatService = Object.create(node.service);
  service.watch = (showId, listener) => {
    watchers++;
    const off = node.service.watch(showId, listener);
    let done = false;
    return () => {
      if (!done) watchers--;
      done = true;
      off();
    };
  };
  const server = await startGrpcServer({
    service,
    adminToken: ADMIN_TOKEN,
    host: '127.0.0.1',
    port: 0,
    logger,
    ...(opts.identity ? { identity: new EdgeIdentity(opts.identity) } : {}),
    limiter: opts.limiter ?? createEdgeLimiter(NO_RATE_LIMITS, { kind: 'memory' }, logger),
    watchLimits: { maxWatchersPerAddress: 0, ...opts.watchLimits },
    ...(opts.trustedProxies ? { trustedProxies: opts.trustedProxies } : {}),
  });
  const target = `127.0.0.1:${server.port}`;
  const client: Client = new pkg.seats.v1.SeatInventory(target, grpc.credentials.createInsecure());
  const health: Client = new pkg.grpc.health.v1.Health(target, grpc.credentials.createInsecure());
  return {
    node,
    server,
    client,
    health,
    watchers: () => watchers,
    stop: async () => {
      client.close();
      health.close();
      await server.close();
      await node.close();
    },
  };
}

/** A SeatInventory client for any target (a cluster gateway, say), with our own channel limits. */
export function seatClient(target: string, options: grpc.ChannelOptions = {}): Client {
  return new pkg.seats.v1.SeatInventory(target, grpc.credentials.createInsecure(), options);
}

export function adminMetadata(token = ADMIN_TOKEN): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

export interface CallOptions {
  metadata?: grpc.Metadata;
  /** Absolute deadline (ms since epoch); default 10 s from now. */
  deadline?: number;
}

/** A unary call as a promise; rejects with the grpc ServiceError. */
export function call<T = any>(client: Client, method: string, request: object, opts: CallOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](
      request,
      opts.metadata ?? new grpc.Metadata(),
      { deadline: opts.deadline ?? Date.now() + 10_000 },
      (err: grpc.ServiceError | null, reply: T) => (err ? reject(err) : resolve(reply)),
    );
  });
}

export interface Failure {
  status: grpc.status;
  /** The stable code from the trailing metadata `error-code`. */
  code: string | undefined;
  seats: string[];
  fields: string[];
}

/** Runs a call expected to fail; returns its status and the stable code from metadata. */
export async function failure(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (err) {
    const e = err as grpc.ServiceError;
    const get = (key: string) => e.metadata?.get(key)[0] as string | undefined;
    const list = (key: string) => (get(key) ? (get(key) as string).split(',') : []);
    return { status: e.code, code: get('error-code'), seats: list('error-seats'), fields: list('error-fields') };
  }
  throw new Error('expected the call to fail');
}

/** A, B, … Z, then R27, R28, … */
export const rowLabel = (r: number) => (r < 26 ? String.fromCharCode(65 + r) : `R${r + 1}`);

/** A show request in the proto's shape: `rows` rows × `perRow` seats of one category. */
export function showRequest(id: string, rows = 3, perRow = 10, extra: object = {}) {
  return {
    id,
    title: 'Dune',
    city: 'Pune',
    venue: 'Screen 1',
    starts_at: '2026-12-01T19:30:00+05:30',
    categories: [{ id: 'gold', price: 50000, currency: 'INR' }],
    layout: {
      sections: [{ id: 'main', rows: Array.from({ length: rows }, (_, r) => ({ label: rowLabel(r), seats: perRow, category: 'gold' })) }],
    },
    ...extra,
  };
}

export async function createShow(client: Client, id: string, rows = 3, perRow = 10, extra: object = {}): Promise<any> {
  return call(client, 'CreateShow', showRequest(id, rows, perRow, extra), { metadata: adminMetadata() });
}

/** Resolves once `check()` holds, re-checked whenever `subscribe` wakes it; rejects after `ms`. */
export function until(check: () => boolean, subscribe: (wake: () => void) => () => void, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const off = subscribe(() => {
      if (!check()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** For state with no event to wait on: re-checks every few ms until true; rejects after `ms`. */
export async function poll(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
