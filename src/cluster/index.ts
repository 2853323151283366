/** The cluster layer's public entry: roles, placement and routing. */
export type { Placement, PlacementChange } from './placement.ts';
export { Ring, VNODES_PER_WEIGHT, type Member } from './ring.ts';
export { RedisMembershipStore, type MembershipStore, type NodeClaimStore, type ServerClock } from './membership.ts';
export { MembershipPlacement, type MembershipAnnouncement } from './membership-placement.ts';
export { TransportError, type ClusterTransport, type TransportMessage } from './transport.ts';
export { NatsTransport } from './nats-transport.ts';
export { RemoteSeatService } from './remote-seat-service.ts';
export { StaticPlacement } from './static-placement.ts';
export { OwnerBatcher } from './owner-batcher.ts';
export { WorkerEndpoint } from './worker-endpoint.ts';
export { startWorker, type ClusterWorker, type WorkerContext, type WorkerExtension, type WorkerExtensionHandle } from './worker.ts';
export { startClusterGateway, type ClusterGateway } from './gateway-node.ts';
export { workerExtensions } from './extensions.ts';
export { resolveNodeId } from './node-id.ts';
