import { randomBytes } from 'node:crypto';
import { ActorHost, type ActorHostOptions } from './actors/actor-host.ts';
import { seatDelta } from './actors/deltas.ts';
import { DEFAULT_PIPELINE_DEPTH, type CommittedBatch } from './actors/show-actor.ts';
import { showSummary } from './actors/views.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { BookingSync } from './projections/booking-rows.ts';
import type { ReplayedTail } from './core/replayed-tail.ts';
import type { Storage } from './core/storage.ts';
import type { WarmCopySource } from './core/warm-copy.ts';
import { outEventPublisher } from './projections/out-events.ts';
import { OutRelay, type OutSink } from './projections/out-relay.ts';
import { webhookSink } from './projections/webhook-relay.ts';
import { HoldTokens } from './service/hold-tokens.ts';
import { LocalSeatService } from './service/local-seat-service.ts';
import { deltaSubject } from './subjects.ts';

/** A node that owns shows: actor host, storage and the local seat service, wired together. */
export interface SeatNode {
  host: ActorHost;
  storage: Storage;
  service: LocalSeatService;
  tokens: HoldTokens;
  /** The at-least-once out-event relay (out stream or webhook); null when out-events go on the bus only. */
  outRelay: OutRelay | null;
  /** Adds a listener run after every commit, like `extraListeners` (the cluster's expiry index). */
  addCommitListener(listener: (batch: CommittedBatch) => void): void;
  close(): Promise<void>;
}

const CATALOG_EVENTS = new Set(['ShowCreated', 'ShowChanged', 'ShowCancelled']);

/** How often the node looks for idle shows to passivate, at most. */
const PASSIVATION_SWEEP_MAX_MS = 60_000;
/** On close, how long the node waits for queued out-events before its final snapshots. */
const CLOSE_OUT_DRAIN_MS = 5_000;

type OutConfig = Partial<Pick<Config, 'webhookUrl' | 'webhookSecret' | 'outEventsDieAfterCommitForTests'>>;

/**
 * Where this node delivers out-events at least once: the storage's out stream (JetStream),
 * or, on the embedded store, the webhook when WEBHOOK_URL is set. Null: bus only.
 */
function outRelayOf(config: OutConfig, storage: Storage, logger: Logger): OutRelay | null {
  let sink: OutSink | null = storage.outSink ?? null;
  if (!sink && storage.kind === 'embedded' && config.webhookUrl)
    sink = webhookSink({ url: config.webhookUrl, secret: config.webhookSecret });
  if (!sink) return null;
  return new OutRelay({
    sink,
    log: storage.log,
    snapshots: storage.snapshots,
    logger,
    ...(config.outEventsDieAfterCommitForTests !== undefined ? { dieAfterCommitForTests: config.outEventsDieAfterCommitForTests } : {}),
  });
}

export function createSeatNode(
  config: Pick<Config, 'holdTokenSecret' | 'snapshotEveryEvents' | 'snapshotEveryMs'> &
    Partial<
      Pick<
        Config,
        | 'passivateAfterMs'
        | 'viewCacheMaxBytes'
        | 'viewCacheBigSeats'
        | 'viewCacheMaxStaleMs'
        | 'idempotencyRetentionSeconds'
        | 'mailboxMaxCommands'
        | 'pipelineDepth'
      >
    > &
    OutConfig,
  storage: Storage,
  logger: Logger,
  extraListeners: Array<(batch: CommittedBatch) => void> = [],
  /**
   * Host options a cluster worker adds: a warm replica's copy source (or later through
   * `host.useWarmCopies`). A copy may carry the bookings of its last entry; they are written
   * before the activation answers anything. `now`: the clock decisions are made with (a
   * worker's shared clock; default the local one).
   */
  hostOptions: {
    warmState?: WarmCopySource;
    /** The host's clock (tests move time past key retention). */
    now?: () => number;
  } & Pick<ActorHostOptions, 'ownerVerifyWindowMs' | 'beforeTimer'> = {},
): SeatNode {
  const tokens = new HoldTokens(config.holdTokenSecret ?? randomBytes(32));
  const commitLog = logger.child({ subsystem: 'commit' });
  const relay = outRelayOf(config, storage, logger);
  // A JetStream publish reaches core NATS subscribers of the subject too: with an out stream the
  // bus publish would only repeat it. The in-process bus keeps its own (the webhook is extra).
  const publishOutEvents = storage.outSink ? null : outEventPublisher(storage.bus, logger);
  // With a booking store (Postgres), confirms are answered only once their rows are committed.
  const bookingSync = storage.bookings ? new BookingSync(storage.bookings, storage.snapshots, logger) : null;
  const onCommitted = (batch: CommittedBatch) => {
    storage.bus.publish(deltaSubject(batch.showId), seatDelta(batch.state, batch.firstVersion - 1, batch.events));
    if (batch.events.some((e) => CATALOG_EVENTS.has(e.type))) {
      storage.catalog
        .upsert(showSummary(batch.state))
        .catch((err: unknown) => commitLog.warn({ err, showId: batch.showId }, 'catalog update failed'));
    }
    publishOutEvents?.(batch);
    relay?.listener(batch);
    for (const listener of listeners) listener(batch);
  };
  const listeners = [...extraListeners];
  // What a replayed tail owes outside the log, settled before the actor serves, in this order:
  // the booking rows (the warm copy's, then the tail's: confirms answered from state later must
  // have their rows), then the out-events of versions nobody delivered (queued behind nothing
  // the new actor commits).
  const afterReplay = async (showId: string, tail: ReplayedTail): Promise<void> => {
    await bookingSync?.repairTail(showId, tail);
    relay?.afterReplay(showId, tail);
  };
  const host = new ActorHost({
    log: storage.log,
    ...(bookingSync || relay ? { afterReplay } : {}),
    // Snapshots wait for the out-events they cover: undelivered ones stay in the replayed tail.
    snapshots: relay ? relay.holdingSnapshots(storage.snapshots) : storage.snapshots,
    logger,
    onCommitted,
    ...(bookingSync ? { beforeReply: bookingSync.beforeReply, bookingRows: bookingSync } : {}),
    snapshotEveryEvents: config.snapshotEveryEvents,
    snapshotEveryMs: config.snapshotEveryMs,
    ...(config.mailboxMaxCommands !== undefined ? { maxMailbox: config.mailboxMaxCommands } : {}),
    pipelineDepth: config.pipelineDepth ?? DEFAULT_PIPELINE_DEPTH,
    ...(config.idempotencyRetentionSeconds ? { decideOptions: { idempotencyRetentionSeconds: config.idempotencyRetentionSeconds } } : {}),
    ...(hostOptions.warmState ? { warmState: hostOptions.warmState } : {}),
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
  const service = new LocalSeatService(
    host,
    storage.catalog,
    storage.bus,
    tokens,
    storage.archive ?? null,
    {
      ...(config.viewCacheMaxBytes !== undefined ? { maxBytes: config.viewCacheMaxBytes } : {}),
      ...(config.viewCacheBigSeats !== undefined ? { bigSeats: config.viewCacheBigSeats } : {}),
      ...(config.viewCacheMaxStaleMs !== undefined ? { maxStaleMs: config.viewCacheMaxStaleMs } : {}),
    },
    { log: storage.log, snapshots: storage.snapshots },
  );
  return {
    host,
    storage,
    service,
    tokens,
    outRelay: relay,
    addCommitListener: (listener) => listeners.push(listener),
    close: async () => {
      if (passivation) clearInterval(passivation);
      // Delivered out-events let the final snapshots through; with the sink away they would
      // each wait in vain, so the relay closes first and its tail is re-delivered at restart.
      if (relay && !(await relay.drain(CLOSE_OUT_DRAIN_MS))) await relay.close();
      await host.close();
      bookingSync?.close();
      await relay?.close();
      await storage.close();
    },
  };
}
