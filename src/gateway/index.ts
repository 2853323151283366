import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { SeatService } from '../service/seat-service.ts';
import { EdgeIdentity } from './caller.ts';
import { addStatsSource, type NodeStats } from './http/http-metrics.ts';
import { createHttpHandler, type HttpHandler } from './http/http-server.ts';
import type { IdempotencyCacheOptions } from './http/idempotency-cache.ts';
import { servePage } from './page/index.ts';
import { attachWebSocket } from './ws/index.ts';
import { startGrpcServer } from './grpc/index.ts';
import { createEdgeLimiter, edgeConfigOf, rateSettingsOf, type EdgeConfig, type LimiterStore } from './limits/index.ts';

/** Slow-header (slowloris) cut-off. */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Whole request, body included. */
export const REQUEST_TIMEOUT_MS = 30_000;
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const MAX_HEADER_BYTES = 16 * 1024;
/** How long shutdown waits for requests in flight before cutting connections. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 5_000;

export interface GatewayOptions {
  service: SeatService;
  /** Edge limits left out take the product defaults (limits are on unless switched off). */
  config: Pick<Config, 'port' | 'host' | 'grpcPort' | 'maxBodyBytes'> &
    Partial<EdgeConfig> &
    Partial<Pick<Config, 'trustedProxies' | 'customerTokenSecret'>>;
  /** Where rate-limit counters live: memory (default, this process) or Redis (shared by a cluster's gateways). */
  limiterStore?: LimiterStore;
  adminToken: string;
  logger: Logger;
  /** The local node's counts for the gauges; absent on a gateway-only process. */
  stats?: () => NodeStats;
  idempotency?: IdempotencyCacheOptions;
  /** Extra GET paths outside /v1/shows (the cluster's debug routes); returns true when it answered. */
  extraRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface Gateway {
  server: Server;
  http: HttpHandler;
  /** Bound port (the real one when config.port is 0). */
  port: number;
  /** Base URL a client on this machine can use, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Bound gRPC port (the real one when config.grpcPort is 0). */
  grpcPort: number;
  /** Stops accepting, lets requests in flight finish (up to graceMs), closes every front door. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Starts the front doors of one process on one node:http server: HTTP/JSON (and the
 * seat-map page) now, WebSocket and gRPC where marked below.
 */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const log = opts.logger.child({ subsystem: 'gateway' });
  // One identity for the three doors: the same caller whichever protocol a client uses.
  const identity = new EdgeIdentity({
    trustedProxies: opts.config.trustedProxies ?? [],
    customerTokenSecret: opts.config.customerTokenSecret,
  });
  const edge = edgeConfigOf(opts.config);
  const limiter = createEdgeLimiter(rateSettingsOf(edge), opts.limiterStore ?? { kind: 'memory' }, opts.logger);
  const http = createHttpHandler({
    identity,
    service: opts.service,
    // The live seat-map page answers the GETs the API does not.
    fallback: opts.extraRoutes ? (req, res) => opts.extraRoutes!(req, res) || servePage(req, res) : servePage,
    adminToken: opts.adminToken,
    maxBodyBytes: opts.config.maxBodyBytes,
    logger: opts.logger,
    // No client waits longer than the server gives a request; a command older than that is dropped undone.
    commandDeadlineMs: REQUEST_TIMEOUT_MS,
    ...(opts.idempotency ? { idempotency: opts.idempotency } : {}),
    limiter,
    trustedProxies: edge.trustedProxies,
    ...(edge.metricsToken !== undefined ? { metricsToken: edge.metricsToken } : {}),
  });
  const server = createServer(
    {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      maxHeaderSize: MAX_HEADER_BYTES,
      // Timeouts are enforced on this tick; the default 30 s would let slow headers linger.
      connectionsCheckingInterval: 1_000,
    },
    http.handle,
  );
  server.maxHeadersCount = 100;
  const closers: Array<() => Promise<void> | void> = [];
  const removeStats = opts.stats ? addStatsSource(opts.stats) : null;

  // ---- WebSocket front door (/v1/ws): live seat maps and commands.
  const ws = attachWebSocket(server, {
    service: opts.service,
    logger: opts.logger,
    identity,
    limiter,
    trustedProxies: edge.trustedProxies,
    allowedOrigins: edge.allowedOrigins,
    maxSockets: edge.wsMaxSockets,
    maxSocketsPerAddress: edge.wsMaxSocketsPerAddress,
  });
  closers.push(() => ws.close());

  // ---- gRPC front door (seats.v1.SeatInventory + grpc.health.v1.Health) on GRPC_PORT.
  const grpc = await startGrpcServer({
    service: opts.service,
    adminToken: opts.adminToken,
    host: opts.config.host,
    port: opts.config.grpcPort,
    logger: opts.logger,
    identity,
    limiter,
    trustedProxies: edge.trustedProxies,
    watchLimits: { maxWatchers: edge.grpcMaxWatchStreams, maxWatchersPerAddress: edge.grpcMaxWatchStreamsPerAddress },
  });
  closers.push(() => grpc.close());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.config.port, opts.config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.config.host === '0.0.0.0' || opts.config.host === '::' ? '127.0.0.1' : opts.config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  http.setReady(true);
  log.debug({ url }, 'gateway listening');
  log.info(
    {
      limiter: opts.limiterStore?.kind ?? 'memory',
      rates: rateSettingsOf(edge),
      ws: ws.caps,
      grpcWatch: grpc.watchCaps,
      allowedOrigins: edge.allowedOrigins.length > 0 ? edge.allowedOrigins : 'same origin',
      metricsProtected: edge.metricsToken !== undefined,
    },
    'edge limits',
  );

  let closing: Promise<void> | null = null;
  const close = (graceMs = DEFAULT_SHUTDOWN_GRACE_MS): Promise<void> => {
    closing ??= (async () => {
      http.setReady(false);
      removeStats?.();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      for (const c of closers.reverse()) {
        try {
          await c();
        } catch (err) {
          log.warn({ err }, 'front door close failed');
        }
      }
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([stopped, grace]);
      clearTimeout(timer);
      server.closeAllConnections();
      await stopped;
    })();
    return closing;
  };

  return { server, http, port, url, grpcPort: grpc.port, close };
}
