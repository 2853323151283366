import { DEFAULT_MAX_BODY_BYTES } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/gateway/index.ts';
import { EDGE_LIMITS_OFF, type EdgeConfig } from '../../src/gateway/limits/index.ts';
import type { IdempotencyCacheOptions } from '../../src/gateway/http/idempotency-cache.ts';
import { logger as rootLogger, type Logger } from '../../src/logger.ts';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openMemoryStorage, type Storage } from '../../src/persistence/index.ts';
import type { LocalSeatService } from '../../src/service/local-seat-service.ts';
import { showInput } from '../../testkit/shows.ts';

export const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789';
export const TEST_HOLD_TOKEN_SECRET = 'test-hold-token-secret-0123456789';

export interface TestServerOptions {
  /** Defaults to fresh memory storage; closed by stop() either way. */
  storage?: Storage;
  adminToken?: string;
  maxBodyBytes?: number;
  idempotency?: IdempotencyCacheOptions;
  logger?: Logger;
  /** Proxies whose X-Forwarded-For is believed (tests name clients through it), customer token secret. */
  trustedProxies?: string[];
  customerTokenSecret?: string;
  /**
   * Edge limits (rate limits, socket caps, origins, metrics token). Default: every limit off,
   * since the tests drive many clients and holds from one loopback address; the limit tests
   * set the ones they exercise.
   */
  edge?: Partial<EdgeConfig>;
  /** The actor host's clock (default the real one): tests that need time to pass move it. */
  clock?: () => number;
  /** Node settings beyond the defaults (mailbox bound, idempotency retention, ...). */
  node?: Partial<Parameters<typeof createSeatNode>[0]>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON, or null for an empty body. */
  body: any;
  text: string;
}

export interface RequestOptions {
  /** Serialized with JSON.stringify unless `raw` is given. */
  body?: unknown;
  /** Sent as is (malformed JSON, odd content types). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
  /** Adds Authorization: Bearer <adminToken>. */
  admin?: boolean;
  holdToken?: string;
  idempotencyKey?: string;
}

export interface TestServer {
  url: string;
  service: LocalSeatService;
  node: SeatNode;
  gateway: Gateway;
  adminToken: string;
  /** One HTTP call against the server; never throws on error statuses. */
  request(method: string, path: string, opts?: RequestOptions): Promise<TestResponse>;
  stop(): Promise<void>;
}

/**
 * A whole node (memory storage, actors, local service) behind the HTTP gateway on port 0.
 * Shared by the integration tests of every front door.
 */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const logger = opts.logger ?? rootLogger;
  const storage = opts.storage ?? openMemoryStorage(logger);
  const adminToken = opts.adminToken ?? TEST_ADMIN_TOKEN;
  const node = createSeatNode(
    { holdTokenSecret: TEST_HOLD_TOKEN_SECRET, snapshotEveryEvents: 1_000, snapshotEveryMs: 60_000, ...opts.node },
    storage,
    logger,
    [],
    opts.clock ? { now: opts.clock } : {},
  );
  const gateway = await startGateway({
    service: node.service,
    config: {
      port: 0,
      host: '127.0.0.1',
      grpcPort: 0,
      maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      ...EDGE_LIMITS_OFF,
      ...opts.edge,
      ...(opts.trustedProxies ? { trustedProxies: opts.trustedProxies } : {}),
      ...(opts.customerTokenSecret ? { customerTokenSecret: opts.customerTokenSecret } : {}),
    },
    adminToken,
    logger,
    stats: () => node.host.stats(),
    ...(opts.idempotency ? { idempotency: opts.idempotency } : {}),
  });
  return {
    url: gateway.url,
    service: node.service,
    node,
    gateway,
    adminToken,
    request: (method, path, o) => request(gateway.url, adminToken, method, path, o),
    stop: async () => {
      await gateway.close(1_000);
      await node.close();
    },
  };
}

export async function request(
  baseUrl: string,
  adminToken: string,
  method: string,
  path: string,
  o: RequestOptions = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...o.headers };
  let body: string | Uint8Array | undefined;
  if (o.raw !== undefined) body = typeof o.raw === 'string' ? o.raw : new Uint8Array(o.raw);
  else if (o.body !== undefined) body = JSON.stringify(o.body);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
    headers['content-type'] = 'application/json';
  if (o.admin) headers.authorization = `Bearer ${adminToken}`;
  if (o.holdToken !== undefined) headers['hold-token'] = o.holdToken;
  if (o.idempotencyKey !== undefined) headers['idempotency-key'] = o.idempotencyKey;
  const res = await fetch(baseUrl + path, { method, headers, ...(body !== undefined ? { body: body as BodyInit } : {}) });
  const text = await res.text();
  let parsed: unknown = null;
  if (text && (res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** A create-show body in the documented shape: `rows` rows of `seatsPerRow` gold seats, an evening show. */
export function showBody(id = 's1', overrides: Record<string, unknown> = {}, rows = 2, seatsPerRow = 10): Record<string, unknown> {
  return { ...showInput(id, rows, seatsPerRow), ...overrides };
}
