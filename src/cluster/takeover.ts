import type { Redis } from 'ioredis';
import type { NatsConnection } from 'nats';
import type { ActorHost } from '../actors/actor-host.ts';
import type { CommittedBatch } from '../actors/show-actor.ts';
import type { Logger } from '../logger.ts';
import type { Storage } from '../core/storage.ts';
import { isFollowable } from '../core/followable-log.ts';
import {
  DEFAULT_EXPIRY_FLUSH_MS,
  DEFAULT_EXPIRY_MARGIN_MS,
  DEFAULT_EXPIRY_SWEEP_MS,
  ExpiryIndexWriter,
  ExpirySweeper,
  expiryEntryOf,
} from './expiry-index.ts';
import { attachOwnership } from './ownership.ts';
import type { Placement } from './placement.ts';
import { ReplicaFollower, type FollowerStats } from './replica-follower.ts';

export interface ClusterTakeoverOptions {
  host: ActorHost;
  storage: Storage;
  placement: Placement;
  /** Redis for the expiry index; without it holds expire only while their owner lives. */
  redis: Redis | null;
  /** NATS connection for the replica consumer; without it (or on a log that cannot be followed) no warm copies. */
  nc: NatsConnection | null;
  logger: Logger;
  config: {
    clusterPrefix: string;
    expiryFlushMs?: number;
    expirySweepMs?: number;
    expiryMarginMs?: number;
    /** Replica copies idle this long are dropped (PASSIVATE_AFTER_MS, as owners do); absent: kept. */
    passivateAfterMs?: number;
  };
}

export interface ClusterTakeover {
  /** Add to the node's commit listeners (the owner's side of the expiry index). */
  commitListener(batch: CommittedBatch): void;
  /** Graceful leave, after the node left the ring: hand every show over. */
  handOverAll(): Promise<void>;
  /** Resolves when the last ring change's handovers and takeovers are done. */
  settled(): Promise<void>;
  readonly follower: ReplicaFollower | null;
  stats(): {
    follower: FollowerStats | null;
    handedOver: number;
    takenOver: number;
    expiryActivations: number;
    expiryWrites: number;
  };
  close(): Promise<void>;
}

/**
 * A worker's share of the cluster beyond routing: warm replicas, takeover and handover on
 * ring changes, and hold expiry that survives the owner's death. Start it before the
 * worker joins the ring (it hands the host its warm copies); wire `commitListener` into the node.
 */
export async function startClusterTakeover(opts: ClusterTakeoverOptions): Promise<ClusterTakeover> {
  const { host, storage, placement, logger } = opts;
  const log = storage.log;
  const writer = opts.redis
    ? new ExpiryIndexWriter({
        redis: opts.redis,
        prefix: opts.config.clusterPrefix,
        logger,
        flushMs: opts.config.expiryFlushMs ?? DEFAULT_EXPIRY_FLUSH_MS,
      })
    : null;
  const follower: ReplicaFollower | null =
    opts.nc && isFollowable(log)
      ? new ReplicaFollower({
          nc: opts.nc,
          log,
          stream: log.stream,
          subjectPrefix: log.subjectPrefix,
          snapshots: storage.snapshots,
          placement,
          logger,
          ...(opts.config.passivateAfterMs ? { passivateAfterMs: opts.config.passivateAfterMs } : {}),
          // The replica writes the index too, so a hold survives an owner that died before its flush.
          onApplied: (showId) => writer?.touch(showId, () => follower?.peek(showId, (c) => expiryEntryOf(c.state)) ?? null),
        })
      : null;
  const entryOfActive = async (showId: string) => (host.isActive(showId) ? host.read(showId, expiryEntryOf, { verify: false }) : null);

  if (follower) {
    await follower.start((showId) => host.isActive(showId));
    host.useWarmCopies((showId) => follower.take(showId));
  }
  const sweeper = writer
    ? new ExpirySweeper({
        redis: opts.redis as Redis,
        prefix: opts.config.clusterPrefix,
        placement,
        logger,
        writer,
        isActive: (showId) => host.isActive(showId),
        activate: (showId) => host.ensureActive(showId),
        entryOf: entryOfActive,
        sweepMs: opts.config.expirySweepMs ?? DEFAULT_EXPIRY_SWEEP_MS,
        marginMs: opts.config.expiryMarginMs ?? DEFAULT_EXPIRY_MARGIN_MS,
      })
    : null;
  const ownership = attachOwnership({
    host,
    placement,
    logger,
    ...(follower ? { warmShowIds: () => follower.readyShowIds() } : {}),
  });
  return {
    follower,
    commitListener: (batch) => writer?.touch(batch.showId, () => entryOfActive(batch.showId)),
    handOverAll: () => ownership.handOverAll(),
    settled: () => ownership.settled(),
    stats: () => ({
      follower: follower?.stats() ?? null,
      ...ownership.stats(),
      expiryActivations: sweeper?.stats().activations ?? 0,
      expiryWrites: writer?.stats().written ?? 0,
    }),
    close: async () => {
      await ownership.close();
      await sweeper?.close();
      await follower?.close();
      await writer?.close();
    },
  };
}
