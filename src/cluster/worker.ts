import type { Redis } from 'ioredis';
import type { NatsConnection } from 'nats';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { addStatsSource } from '../gateway/http/http-metrics.ts';
import { createSeatNode, type SeatNode } from '../node.ts';
import { connectNats } from '../persistence/durable-storage.ts';
import { openStorage, type Storage } from '../persistence/index.ts';
import { clusterRoutes } from './cluster-routes.ts';
import { watchFaultStats } from './fault-metrics.ts';
import { startHealthServer } from './health-server.ts';
import { RedisMembershipStore } from './membership.ts';
import { NatsTransport } from './nats-transport.ts';
import { NodeIdClaim, RedisNodeClaimStore } from './node-claim.ts';
import { resolveNodeId } from './node-id.ts';
import { SharedClock, gateMembership } from './shared-clock.ts';
import type { MembershipPlacement } from './membership-placement.ts';
import { connectRedis } from './redis-client.ts';
import type { WorkerEndpoint } from './worker-endpoint.ts';
import { createWorkerRouting } from './worker-routing.ts';

/** Everything a worker extension may use. Created in this order: storage, node, placement, endpoint. */
export interface WorkerContext {
  nodeId: string;
  config: Config;
  logger: Logger;
  storage: Storage;
  node: SeatNode;
  placement: MembershipPlacement;
  endpoint: WorkerEndpoint;
  /** The cluster's own NATS connection (commands, announcements); storage has another. */
  nc: NatsConnection;
  redis: Redis;
  /** The cluster's shared clock (decision time; whether this worker is too skewed to own shows). */
  clock: SharedClock;
}

export interface WorkerExtensionHandle {
  /** After this worker left the ring on a graceful stop, before the node closes (handover). */
  afterLeave?(): Promise<void>;
  close?(): Promise<void>;
}

/** Started after the worker's parts exist and before it joins the ring. */
export type WorkerExtension = (ctx: WorkerContext) => Promise<WorkerExtensionHandle> | WorkerExtensionHandle;

export interface ClusterWorker {
  nodeId: string;
  /** Health/metrics URL (PORT). */
  url: string;
  context: WorkerContext;
  /** Resolves if another process takes over this NODE_ID while this one runs (it then serves nothing; stop it). */
  claimLost: Promise<void>;
  /** Graceful stop: leave the ring, let extensions hand over, finish ops in flight, close. */
  close(): Promise<void>;
}

/**
 * ROLE=worker: an actor host over durable storage, a member of the ring, answering the
 * commands gateways send to `<prefix>.cmd.<nodeId>`. Serves /healthz, /readyz, /metrics and
 * the cluster debug routes on PORT; ready while it is in its own ring.
 */
export async function startWorker(config: Config, logger: Logger, extensions: WorkerExtension[] = []): Promise<ClusterWorker> {
  const nodeId = resolveNodeId(config.nodeId);
  const log = logger.child({ subsystem: 'worker', nodeId });
  if (!config.redisUrl || !config.holdTokenSecret) throw new Error('a worker needs REDIS_URL and HOLD_TOKEN_SECRET');
  const redis = connectRedis(config.redisUrl, Math.max(100, Math.floor(config.memberTtlMs / 2)), logger);
  // One live process per NODE_ID, checked before anything else is opened or subscribed.
  const claim = new NodeIdClaim(new RedisNodeClaimStore(redis, config.clusterPrefix), nodeId, config.memberTtlMs);
  try {
    await claim.claim(config.nodeClaimWaitMs ?? config.memberTtlMs + 2 * config.heartbeatIntervalMs, log);
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  // Kept fresh until the heartbeat takes over (opening storage may outlast the TTL).
  const claimKeeper = setInterval(() => void claim.refresh().catch(() => undefined), config.heartbeatIntervalMs).unref();
  let placement: MembershipPlacement;
  let resolveClaimLost!: () => void;
  const claimLost = new Promise<void>((resolve) => (resolveClaimLost = resolve));
  const storage = await openStorage({ ...config, nodeId }, logger);
  // Decisions use the shared clock; a worker too far off it stays out of the ring (gateMembership).
  const membership = new RedisMembershipStore(redis, config.clusterPrefix);
  const clock = new SharedClock({
    server: membership,
    intervalMs: config.heartbeatIntervalMs,
    skewMaxMs: config.clockSkewMaxMs,
    logger: logger.child({ nodeId }),
  });
  const node = createSeatNode({ ...config, holdTokenSecret: config.holdTokenSecret }, storage, logger, [], {
    ownerVerifyWindowMs: config.ownerVerifyWindowMs,
    // A hold-expiry timer writes only once this worker knows it still owns the show.
    beforeTimer: (showId) => placement.mayAct(showId),
    now: clock.now,
  });
  // seat_active_holds / seat_active_shows count this worker's shows.
  const removeStats = addStatsSource(() => node.host.stats());
  const nc = await connectNats(config.natsUrl!, `seat-worker-${nodeId}`, logger);
  const transport = new NatsTransport(nc);
  let endpoint: WorkerEndpoint;
  ({ placement, endpoint } = createWorkerRouting({
    nodeId,
    node,
    transport,
    store: gateMembership(membership, clock),
    claim,
    settings: config,
    logger,
    onClaimLost: () => resolveClaimLost(),
  }));
  const context: WorkerContext = {
    nodeId,
    config,
    logger,
    storage,
    node,
    placement,
    endpoint,
    nc,
    redis,
    clock,
  };
  const handles: WorkerExtensionHandle[] = [];
  for (const ext of extensions) handles.push(await ext(context));

  // Subscribe before joining: the first command may arrive right after the announcement.
  endpoint.start();
  await nc.flush();
  await clock.start();
  try {
    await placement.start();
  } finally {
    clearInterval(claimKeeper);
  }
  let stopping = false;
  const health = await startHealthServer({
    host: config.host,
    port: config.port,
    ready: () => !stopping && placement.members().includes(nodeId),
    metricsToken: config.metricsToken,
    extra: clusterRoutes(placement, () => ({
      nodeId,
      endpoint: endpoint.counts,
      ...node.host.stats(),
      clock: { offsetMs: clock.offsetMs, skewed: clock.skewed },
    })),
  });
  const unwatch = watchFaultStats(() => {
    const { activations, ownerChecks } = node.host.stats();
    return { servingThroughOutage: placement.servingThroughOutage, activations, ownerChecks };
  });
  log.info({ url: health.url, nodeId, members: placement.members() }, 'listening');

  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      stopping = true;
      unwatch();
      await placement.leave();
      for (const h of handles) await h.afterLeave?.().catch((err: unknown) => log.warn({ err }, 'extension afterLeave failed'));
      await endpoint.close();
      for (const h of handles.reverse()) await h.close?.().catch((err: unknown) => log.warn({ err }, 'extension close failed'));
      await placement.close();
      await claim.release().catch((err: unknown) => log.warn({ err }, 'could not release the NODE_ID claim; it expires after its TTL'));
      clock.close();
      await health.close();
      await node.close();
      removeStats();
      await Promise.allSettled([nc.drain(), redis.quit()]);
    })());
  return { nodeId, url: health.url, context, claimLost, close };
}
