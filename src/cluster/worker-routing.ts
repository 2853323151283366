import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { ActorHost } from '../actors/actor-host.ts';
import type { LocalSeatService } from '../service/local-seat-service.ts';
import { clusterSubjects } from '../subjects.ts';
import type { MembershipStore } from './membership.ts';
import { MembershipPlacement } from './membership-placement.ts';
import type { NodeIdClaim } from './node-claim.ts';
import { mapWireOf } from './show-map-wire.ts';
import type { ClusterTransport } from './transport.ts';
import { WorkerEndpoint } from './worker-endpoint.ts';

export interface WorkerRoutingOptions {
  nodeId: string;
  /** The node's actor host and local service (a SeatNode). */
  node: { host: ActorHost; service: LocalSeatService };
  transport: ClusterTransport;
  store: MembershipStore;
  claim: NodeIdClaim;
  settings: Pick<
    Config,
    'clusterPrefix' | 'nodeWeight' | 'heartbeatIntervalMs' | 'memberTtlMs' | 'serveThroughRedisOutage' | 'hopMaxFrameBytes'
  >;
  logger: Logger;
  onClaimLost?: () => void;
  /** Lease clock and manual heartbeats (in-process clusters on a manual clock). */
  now?: () => number;
  manualBeats?: boolean;
}

/**
 * A worker's membership and command endpoint over its ports, as every worker wires them
 * (startWorker on NATS and Redis, InProcessCluster in one process). Nothing starts here: the
 * caller starts the endpoint before the placement, so the first command after the join
 * announcement finds the subscription.
 */
export function createWorkerRouting(opts: WorkerRoutingOptions): { placement: MembershipPlacement; endpoint: WorkerEndpoint } {
  const { settings, node } = opts;
  const placement = new MembershipPlacement({
    store: opts.store,
    transport: opts.transport,
    prefix: settings.clusterPrefix,
    self: { nodeId: opts.nodeId, weight: settings.nodeWeight },
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    memberTtlMs: settings.memberTtlMs,
    logger: opts.logger,
    serveThroughOutage: settings.serveThroughRedisOutage,
    claim: opts.claim,
    ...(opts.onClaimLost ? { onClaimLost: opts.onClaimLost } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.manualBeats ? { manualBeats: true } : {}),
  });
  const endpoint = new WorkerEndpoint({
    transport: opts.transport,
    subject: clusterSubjects(settings.clusterPrefix).commands(opts.nodeId),
    service: node.service,
    placement,
    logger: opts.logger,
    readMap: (showId) => node.host.read(showId, mapWireOf),
    ...(settings.hopMaxFrameBytes !== undefined ? { maxFrameBytes: settings.hopMaxFrameBytes } : {}),
  });
  return { placement, endpoint };
}
