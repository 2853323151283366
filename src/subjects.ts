/** NATS subjects (and in-process bus subjects), defined once. */

export const EVENTS_STREAM = 'SEATS_EVENTS';
export const eventSubject = (showId: string) => `seats.events.${showId}`;
export const deltaSubject = (showId: string) => `seats.delta.${showId}`;

/** Out-events for other services (payment, refunds, notifications). */
export const OUT_SUBJECTS = {
  BookingConfirmed: 'seats.out.booking.confirmed',
  BookingCancelled: 'seats.out.booking.cancelled',
  HoldExpired: 'seats.out.hold.expired',
  ShowCancelled: 'seats.out.show.cancelled',
  ShowChanged: 'seats.out.show.changed',
} as const;

/** Cluster subjects (core NATS). `prefix` is CLUSTER_PREFIX, so several clusters can share a server. */
export const clusterSubjects = (prefix: string) => ({
  /** Commands for the worker `nodeId` (one request may carry many ops). */
  commands: (nodeId: string) => `${prefix}.cmd.${nodeId}`,
  /** Join and leave announcements; everyone re-reads membership on one. */
  members: `${prefix}.cluster.members`,
});

/** Redis keys of the cluster, under CLUSTER_PREFIX. */
export const clusterKeys = (prefix: string) => ({
  /** Sorted set: member = node id, score = last heartbeat (Redis server time, ms). */
  members: `${prefix}:members`,
  /** Hash: node id → weight. */
  weights: `${prefix}:weights`,
  /** String: the instance token of the live process running this node id. */
  nodeClaim: (nodeId: string) => `${prefix}:node:${nodeId}`,
});
