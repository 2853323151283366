import { Server, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from '../../logger.ts';
import type { SeatService } from '../../service/seat-service.ts';
import { AdminAuth } from '../../admin-auth.ts';
import { EdgeIdentity } from '../caller.ts';
import { createEdgeLimiter, DEFAULT_EDGE_LIMITS, type EdgeLimiter } from '../limits/index.ts';
import { unaryHandlers } from './handlers.ts';
import { HealthService } from './health.ts';
import { loadServices, showUpdateEncoder } from './proto.ts';
import { SERVER_OPTIONS, SHUTDOWN_GRACE_MS } from './server-options.ts';
import { WatchRegistry, type WatchLimits } from './watch-show.ts';

export interface GrpcServerOptions {
  service: SeatService;
  /** Admin calls need `authorization: Bearer <adminToken>`. */
  adminToken: string;
  /** Default 0.0.0.0. */
  host?: string;
  /** 0 picks a free port; the handle tells which. */
  port: number;
  logger: Logger;
  /** Overrides of SERVER_OPTIONS (tests, benches). */
  channelOptions?: ChannelOptions;
  watchLimits?: Partial<WatchLimits>;
  /** Who calls (trusted proxies, customer tokens); default: the peer address, no tokens. */
  identity?: EdgeIdentity;
  /** Rate limits; default: the product defaults, counted in this process. */
  limiter?: EdgeLimiter;
  /** Peers whose `x-forwarded-for` metadata names the client. */
  trustedProxies?: readonly string[];
}

export interface GrpcServerHandle {
  port: number;
  /** The WatchShow caps in force. */
  watchCaps: { maxWatchers: number; maxWatchersPerAddress: number };
  /** Health goes NOT_SERVING, watch streams end, calls in flight get a grace period. */
  close(): Promise<void>;
}

function bindAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Starts seats.v1.SeatInventory and grpc.health.v1.Health on one port. */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<GrpcServerHandle> {
  const logger = opts.logger.child({ subsystem: 'grpc' });
  const services = loadServices();
  const server = new Server({ ...SERVER_OPTIONS, ...opts.channelOptions });
  const health = new HealthService();
  const trustedProxies = opts.trustedProxies ?? [];
  const watches = new WatchRegistry(opts.service, logger, showUpdateEncoder(services), opts.watchLimits, trustedProxies);
  const auth = new AdminAuth(opts.adminToken);
  const limiter = opts.limiter ?? createEdgeLimiter(DEFAULT_EDGE_LIMITS, { kind: 'memory' }, opts.logger);
  server.addService(services.seats, {
    ...unaryHandlers({ service: opts.service, auth, logger, identity: opts.identity ?? new EdgeIdentity(), limiter, trustedProxies }),
    WatchShow: watches.handler,
  });
  server.addService(services.health, health.implementation());
  // Server reflection (v1 and v1alpha): grpcurl, Postman and the like list and call the
  // services without the proto files.
  new ReflectionService(services.definition).addToServer(server);

  const address = bindAddress(opts.host ?? '0.0.0.0', opts.port);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  logger.info({ address, port }, 'grpc listening');

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      health.setAll('NOT_SERVING');
      health.endAll();
      watches.endAll();
      const force = setTimeout(() => {
        logger.warn('grpc calls still running after the grace period, cutting them off');
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      force.unref();
      server.tryShutdown(() => {
        clearTimeout(force);
        logger.info('grpc closed');
        resolve();
      });
    });
    return closing;
  };
  return { port, watchCaps: { maxWatchers: watches.slots.total, maxWatchersPerAddress: watches.slots.perAddress }, close };
}
