/** The cluster's ports in one process (tests, and a cluster without servers): transport, membership, clock, and the wiring of both roles over them. */
export {
  InProcessCluster,
  IN_PROCESS_HEARTBEAT_MS,
  IN_PROCESS_MEMBER_TTL_MS,
  type InProcessClusterOptions,
  type InProcessGateway,
  type InProcessWorker,
} from './cluster.ts';
export { InProcessMembership, StoreUnreachableError } from './membership.ts';
export { InProcessNetwork, InProcessTransport, DEFAULT_IN_PROCESS_MAX_PAYLOAD_BYTES, type SentMessage } from './transport.ts';
export { ManualClock } from './manual-clock.ts';
