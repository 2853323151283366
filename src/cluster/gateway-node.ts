import type { Config } from '../config.ts';
import { startGateway, type Gateway } from '../gateway/index.ts';
import type { Logger } from '../logger.ts';
import { connectNats } from '../persistence/durable-storage.ts';
import { NatsBus } from '../persistence/nats-bus.ts';
import { PostgresCatalog } from '../persistence/postgres-catalog.ts';
import { createPgPool } from '../persistence/postgres-pool.ts';
import { natsConnected, natsDropRetries } from './cluster-metrics.ts';
import { clusterRoutes } from './cluster-routes.ts';
import { RedisMembershipStore } from './membership.ts';
import { NatsLink } from './nats-link.ts';
import { resolveNodeId } from './node-id.ts';
import { startGatewayRouting } from './gateway-routing.ts';
import type { MembershipPlacement } from './membership-placement.ts';
import { NatsTransport } from './nats-transport.ts';
import { connectRedis } from './redis-client.ts';
import type { RemoteSeatService } from './remote-seat-service.ts';

/** Small pool: a gateway reads only the catalog. */
const GATEWAY_PG_POOL_MAX = 4;

export interface ClusterGateway {
  nodeId: string;
  gateway: Gateway;
  placement: MembershipPlacement;
  service: RemoteSeatService;
  close(): Promise<void>;
}

/**
 * ROLE=gateway: the HTTP, WebSocket and gRPC front doors over a RemoteSeatService. No actors.
 * Ready once it knows a ring with at least one worker; not ready again while none is alive
 * or while its NATS connection is down.
 */
export async function startClusterGateway(config: Config, logger: Logger, adminToken: string): Promise<ClusterGateway> {
  const nodeId = resolveNodeId(config.nodeId);
  const log = logger.child({ subsystem: 'cluster-gateway', nodeId });
  const nc = await connectNats(config.natsUrl!, `seat-gateway-${nodeId}`, logger);
  const redis = connectRedis(config.redisUrl!, Math.max(100, Math.floor(config.memberTtlMs / 2)), logger);
  const pool = createPgPool({
    connectionString: config.databaseUrl!,
    logger,
    applicationName: `seat-gateway-${nodeId}`,
    max: GATEWAY_PG_POOL_MAX,
  });
  const bus = new NatsBus(nc, { logger, ...(config.busSubjectPrefix ? { subjectPrefix: config.busSubjectPrefix } : {}) });
  // Without NATS nothing reaches an owner: answer new requests fast, resend the ones in flight when it returns.
  const link = new NatsLink(nc, logger);
  const {
    placement,
    batcher,
    service,
    close: closeRouting,
  } = await startGatewayRouting({
    transport: new NatsTransport(nc),
    store: new RedisMembershipStore(redis, config.clusterPrefix),
    catalog: new PostgresCatalog(pool),
    bus,
    settings: config,
    logger,
    link,
  });
  natsConnected.set(1);
  const unwatchLink = link.onChange((up) => {
    natsConnected.set(up ? 1 : 0);
    if (!up) natsDropRetries.inc(batcher.failAll('nats connection lost'));
  });
  // Rate limits count in Redis so every gateway of the cluster shares one budget per client.
  const limiterStore = { kind: 'redis', redis, keyPrefix: config.clusterPrefix } as const;
  const gateway = await startGateway({ service, config, adminToken, logger, extraRoutes: clusterRoutes(placement), limiterStore });
  let closing = false;
  // Not ready without NATS either: a load balancer then sends clients to a gateway that has it.
  const setReady = () => gateway.http.setReady(!closing && link.up && placement.members().length > 0);
  setReady();
  const unwatch = placement.onChange(setReady);
  const unwatchLinkReady = link.onChange(setReady);
  log.info({ members: placement.members() }, 'gateway knows the ring');
  return {
    nodeId,
    gateway,
    placement,
    service,
    close: async () => {
      closing = true;
      unwatch();
      unwatchLink();
      unwatchLinkReady();
      link.stop();
      await gateway.close();
      await closeRouting();
      await bus.close();
      await Promise.allSettled([nc.drain(), redis.quit(), pool.end()]);
    },
  };
}
