import { randomBytes } from 'node:crypto';
import { ActorHost, type ActorHostOptions } from './actors/actor-host.ts';
import { seatDelta } from './actors/deltas.ts';
import { DEFAULT_PIPELINE_DEPTH, type CommittedBatch } from './actors/show-actor.ts';
import { showSummary } from './actors/views.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { withWarmRepair, type WarmStateSource } from './cluster/replica-repair.ts';
import { BookingSync } from './persistence/durable-bookings.ts';
import type { Storage } from './persistence/index.ts';
import { outEventPublisher } from './persistence/out-events.ts';
import { HoldTokens } from './service/hold-tokens.ts';
import { LocalSeatService } from './service/local-seat-service.ts';
import { deltaSubject } from './subjects.ts';

/** A node that owns shows: actor host, storage and the local seat service, wired together. */
export interface SeatNode {
  host: ActorHost;
  storage: Storage;
  service: LocalSeatService;
  tokens: HoldTokens;
  /** Adds a listener run after every commit, like `extraListeners` (the cluster's expiry index). */
  addCommitListener(listener: (batch: CommittedBatch) => void): void;
  close(): Promise<void>;
}

const CATALOG_EVENTS = new Set(['ShowCreated', 'ShowChanged', 'ShowCancelled']);

/** How often the node looks for idle shows to passivate, at most. */
const PASSIVATION_SWEEP_MAX_MS = 60_000;

export function createSeatNode(
  config: Pick<Config, 'holdTokenSecret' | 'snapshotEveryEvents' | 'snapshotEveryMs'> &
    Partial<Pick<Config, 'passivateAfterMs' | 'viewCacheMaxBytes' | 'viewCacheBigSeats' | 'viewCacheMaxStaleMs' | 'idempotencyRetentionSeconds' | 'mailboxMaxCommands' | 'pipelineDepth'>>,
  storage: Storage,
  logger: Logger,
  extraListeners: Array<(batch: CommittedBatch) => void> = [],
  /**
   * Host options a cluster worker adds: a warm replica's state source. A copy may carry the
   * bookings of its last entry; they are written before the activation answers anything.
   * `now`: the clock decisions are made with (a worker's shared clock; default the local one).
   */
  hostOptions: { warmState?: WarmStateSource; /** The host's clock (tests move time past key retention). */ now?: () => number } & Pick<ActorHostOptions, 'ownerVerifyWindowMs' | 'beforeTimer'> = {},
): SeatNode {
  const tokens = new HoldTokens(config.holdTokenSecret ?? randomBytes(32));
  const commitLog = logger.child({ subsystem: 'commit' });
  const publishOutEvents = outEventPublisher(storage.bus, logger);
  // With a booking store (Postgres), confirms are answered only once their rows are committed.
  const bookingSync = storage.bookings ? new BookingSync(storage.bookings, storage.snapshots, logger) : null;
  const onCommitted = (batch: CommittedBatch) => {
    storage.bus.publish(deltaSubject(batch.showId), seatDelta(batch.state, batch.firstVersion - 1, batch.events));
    if (batch.events.some((e) => CATALOG_EVENTS.has(e.type))) {
      storage.catalog.upsert(showSummary(batch.state)).catch((err: unknown) => commitLog.warn({ err, showId: batch.showId }, 'catalog update failed'));
    }
    publishOutEvents(batch);
    for (const listener of listeners) listener(batch);
  };
  const listeners = [...extraListeners];
  const hostLog = bookingSync ? bookingSync.repairingLog(storage.log) : storage.log;
  const warm = hostOptions.warmState ? withWarmRepair(hostLog, bookingSync ? bookingSync.owingStore() : storage.bookings, hostOptions.warmState) : null;
  const host = new ActorHost({
    log: warm ? warm.log : hostLog,
    snapshots: storage.snapshots,
    logger,
    onCommitted,
    ...(bookingSync ? { beforeReply: bookingSync.beforeReply, bookingRows: bookingSync } : {}),
    snapshotEveryEvents: config.snapshotEveryEvents,
    snapshotEveryMs: config.snapshotEveryMs,
    ...(config.mailboxMaxCommands !== undefined ? { maxMailbox: config.mailboxMaxCommands } : {}),
    pipelineDepth: config.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH,
    ...(config.idempotencyRetentionSeconds ? { decideOptions: { idempotencyRetentionSeconds: config.idempotencyRetentionSeconds } } : {}),
    ...(warm ? { warmState: warm.warmState } : {}),
    ...(storage.archive ? { archive: storage.archive } : {}),
    ...(hostOptions.now ? { now: hostOptions.now } : {}),
    ...(hostOptions.ownerVerifyWindowMs !== undefined ? { ownerVerifyWindowMs: hostOptions.ownerVerifyWindowMs } : {}),
    ...(hostOptions.beforeTimer ? { beforeTimer: hostOptions.beforeTimer } : {}),
  });
  const passivateAfterMs = config.passivateAfterMs;
  let sweeping = false;
  const passivation = passivateAfterMs
    ? setInterval(
        () => {
          if (sweeping) return;
          sweeping = true;
          host
            .passivateIdle(passivateAfterMs)
            // A passivated show's serialized views go with it.
            .then(() => service.views.forgetInactive((id) => host.isActive(id)))
            .catch((err: unknown) => commitLog.warn({ err }, 'passivation failed'))
            .finally(() => (sweeping = false));
        },
        Math.min(Math.max(passivateAfterMs / 2, 100), PASSIVATION_SWEEP_MAX_MS),
      ).unref()
    : null;
  // The embedded store has no cluster expiry index: find the shows holding seats now, so
  // their holds expire on time after a restart even if nobody touches them (and snapshot
  // the ones whose snapshot lags, so they do not pin old log segments).
  if (storage.kind === 'embedded')
    void storage.log
      .showIds()
      .then((ids) => host.startShows(ids))
      .catch((err: unknown) => commitLog.warn({ err }, 'looking for held shows at start failed'));
  const service = new LocalSeatService(host, storage.catalog, storage.bus, tokens, storage.archive ?? null, {
    ...(config.viewCacheMaxBytes !== undefined ? { maxBytes: config.viewCacheMaxBytes } : {}),
    ...(config.viewCacheBigSeats !== undefined ? { bigSeats: config.viewCacheBigSeats } : {}),
    ...(config.viewCacheMaxStaleMs !== undefined ? { maxStaleMs: config.viewCacheMaxStaleMs } : {}),
  }, { log: storage.log, snapshots: storage.snapshots });
  return {
    host,
    storage,
    service,
    tokens,
    addCommitListener: (listener) => listeners.push(listener),
    close: async () => {
      if (passivation) clearInterval(passivation);
      await host.close();
      bookingSync?.close();
      await storage.close();
    },
  };
}
