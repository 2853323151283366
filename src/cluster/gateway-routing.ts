import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Bus, Catalog } from '../core/ports.ts';
import { clusterSubjects } from '../subjects.ts';
import type { MembershipStore } from './membership.ts';
import { MembershipPlacement } from './membership-placement.ts';
import { OwnerBatcher, abandonDroppedOwners } from './owner-batcher.ts';
import { RemoteSeatService, type RemoteSeatServiceOptions } from './remote-seat-service.ts';
import type { ClusterTransport } from './transport.ts';

export interface GatewayRoutingOptions {
  transport: ClusterTransport;
  store: MembershipStore;
  catalog: Catalog;
  bus: Bus;
  settings: Pick<
    Config,
    | 'clusterPrefix'
    | 'heartbeatIntervalMs'
    | 'memberTtlMs'
    | 'batchMaxOps'
    | 'hopMaxFrameBytes'
    | 'requestTimeoutMs'
    | 'attemptTimeoutMs'
    | 'hopHeavyTimeoutMs'
    | 'natsDownWaitMs'
  >;
  logger: Logger;
  /** The transport's connection state, when it has one (NATS). */
  link?: RemoteSeatServiceOptions['link'];
  /** Lease clock and manual heartbeats (in-process clusters on a manual clock). */
  now?: () => number;
  manualBeats?: boolean;
}

export interface GatewayRouting {
  placement: MembershipPlacement;
  batcher: OwnerBatcher;
  service: RemoteSeatService;
  close(): Promise<void>;
}

/**
 * A gateway's view of the ring and its router over its ports, as every gateway wires them
 * (startClusterGateway on NATS and Redis, InProcessCluster in one process). Resolves once
 * the gateway knows the ring.
 */
export async function startGatewayRouting(opts: GatewayRoutingOptions): Promise<GatewayRouting> {
  const { settings, logger } = opts;
  const placement = new MembershipPlacement({
    store: opts.store,
    transport: opts.transport,
    prefix: settings.clusterPrefix,
    self: null,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    memberTtlMs: settings.memberTtlMs,
    logger,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.manualBeats ? { manualBeats: true } : {}),
  });
  await placement.start();
  const batcher = new OwnerBatcher({
    transport: opts.transport,
    subjectOf: clusterSubjects(settings.clusterPrefix).commands,
    maxOps: settings.batchMaxOps,
    logger,
    ...(settings.hopMaxFrameBytes !== undefined ? { maxFrameBytes: settings.hopMaxFrameBytes } : {}),
  });
  const unwatchDropped = abandonDroppedOwners(placement, batcher);
  const service = new RemoteSeatService({
    placement,
    batcher,
    catalog: opts.catalog,
    bus: opts.bus,
    requestTimeoutMs: settings.requestTimeoutMs,
    attemptTimeoutMs: settings.attemptTimeoutMs,
    heavyTimeoutMs: settings.hopHeavyTimeoutMs,
    logger,
    ...(opts.link ? { link: opts.link } : {}),
    natsDownWaitMs: settings.natsDownWaitMs,
  });
  return {
    placement,
    batcher,
    service,
    close: async () => {
      unwatchDropped();
      batcher.close();
      await placement.close();
    },
  };
}
