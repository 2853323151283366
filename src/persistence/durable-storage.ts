import { connect, type NatsConnection } from 'nats';
import type pg from 'pg';
import { ConfigError, type Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Storage } from '../core/storage.ts';
import { JetStreamEventLog, type JetStreamEventLogOptions } from './jetstream-event-log.ts';
import { NatsBus } from './nats-bus.ts';
import { DEFAULT_BOOKING_WRITES_IN_FLIGHT, PostgresBookingStore } from './postgres-booking-store.ts';
import { openOutStream, outStreamName } from './out-stream.ts';
import { PostgresCatalog } from './postgres-catalog.ts';
import { migrate } from './postgres-migrations.ts';
import { createPgPool } from './postgres-pool.ts';
import { PostgresSnapshotStore } from './postgres-snapshot-store.ts';

export const DEFAULT_NATS_CONNECT_TIMEOUT_MS = 5_000;

/** Knobs of the durable storage beyond the URLs; every one has a default. */
export interface DurableOptions {
  /** JetStream stream holding every show's events (default SEATS_EVENTS). */
  stream?: string;
  /** Events of show X live on `<eventSubjectPrefix>.X` (default seats.events). */
  eventSubjectPrefix?: string;
  /** Prefix for every bus subject (deltas, out-events); none by default. */
  busSubjectPrefix?: string;
  pgPoolMax?: number;
  statementTimeoutMs?: number;
  /** Booking upserts in flight at once under group commit (default: the config's bookingWritesInFlight, else DEFAULT_BOOKING_WRITES_IN_FLIGHT). */
  bookingWritesInFlight?: number;
  /** Merge concurrent booking upserts across shows (default: the config's bookingGroupCommit, else true). */
  bookingGroupCommit?: boolean;
  /** Passed to the JetStream log (duplicate window, message size, timeouts, read mode). */
  log?: Omit<JetStreamEventLogOptions, 'logger' | 'stream' | 'subjectPrefix' | 'ownsConnection'>;
  /** Name the connections carry (NATS client name, Postgres application_name). */
  clientName?: string;
  /** Compact each show's log below its previous durable snapshot (default true). */
  purgeBelowSnapshots?: boolean;
  /** JetStream stream of the out-events (OUT_STREAM; default see outStreamName). */
  outStream?: string;
  /** Byte cap of the out stream (OUT_STREAM_MAX_BYTES); none by default. */
  outStreamMaxBytes?: number;
}

/**
 * Compaction: once a newer snapshot is committed, the show's log below the snapshot it
 * replaced goes (a subject purge; the stream denies deleting single messages, not purging).
 * One snapshot interval of log is kept behind the newest snapshot, so a reader that loaded the
 * previous snapshot a moment ago, or a warm replica a little behind, still finds its tail; one
 * that falls further behind fails UNAVAILABLE (the log checks) and starts again from the newest.
 * A failed purge is logged and left to the next snapshot: every purge covers all below it.
 */
async function purgeBelow(events: JetStreamEventLog, showId: string, seq: number, log: Logger): Promise<void> {
  try {
    const purged = await events.purgeBelow(showId, seq);
    if (purged) log.debug({ showId, below: seq, purged }, 'log purged below the previous snapshot');
  } catch (err) {
    log.warn({ err, showId, below: seq }, 'log purge failed; the next snapshot retries');
  }
}

export async function connectNats(url: string, name: string, logger: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(',').map((s) => s.trim()),
    name,
    timeout: DEFAULT_NATS_CONNECT_TIMEOUT_MS,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // nats.js otherwise builds an Error per request for async stack traces: ~5 % of a
    // worker's main thread (bench/edge-cpu), where every append and hop is a request.
    noAsyncTraces: true,
  });
  const log = logger.child({ subsystem: 'nats' });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error')
        log.warn({ status: s.type, data: String(s.data) }, 'nats connection status');
    }
  })();
  return nc;
}

/**
 * The cluster's storage: the event log on NATS JetStream, snapshots, catalog and bookings
 * in Postgres (migrated at start), the bus on core NATS. One NATS connection and one pg
 * pool, both closed by `close()` after everything published has been flushed.
 */
export async function openDurableStorage(
  config: Pick<Config, 'natsUrl' | 'databaseUrl' | 'nodeId'> & Partial<Pick<Config, 'bookingGroupCommit' | 'bookingWritesInFlight'>>,
  logger: Logger,
  overrides: DurableOptions = {},
): Promise<Storage> {
  if (!config.natsUrl || !config.databaseUrl)
    throw new ConfigError('durable storage needs both NATS_URL and DATABASE_URL (set both, or neither for the embedded store)');
  const log = logger.child({ subsystem: 'durable-storage' });
  const name = overrides.clientName ?? `seat-inventory${config.nodeId ? `-${config.nodeId}` : ''}`;
  let nc: NatsConnection | null = null;
  let pool: pg.Pool | null = null;
  try {
    nc = await connectNats(config.natsUrl, name, logger);
    pool = createPgPool({
      connectionString: config.databaseUrl,
      logger,
      applicationName: name,
      ...(overrides.pgPoolMax !== undefined ? { max: overrides.pgPoolMax } : {}),
      ...(overrides.statementTimeoutMs !== undefined ? { statementTimeoutMs: overrides.statementTimeoutMs } : {}),
    });
    await migrate(pool, logger);
    const events = await JetStreamEventLog.open(nc, {
      ...overrides.log,
      logger,
      stream: overrides.stream,
      subjectPrefix: overrides.eventSubjectPrefix,
    });
    const bus = new NatsBus(nc, { logger, ...(overrides.busSubjectPrefix ? { subjectPrefix: overrides.busSubjectPrefix } : {}) });
    const outSink = await openOutStream(nc, {
      stream: outStreamName(overrides.outStream, overrides.stream),
      subjectPrefix: overrides.busSubjectPrefix,
      logger,
      ...(overrides.outStreamMaxBytes !== undefined ? { maxBytes: overrides.outStreamMaxBytes } : {}),
    });
    const snapshots = new PostgresSnapshotStore(pool, {
      afterReplace:
        overrides.purgeBelowSnapshots === false ? undefined : (showId, replacedSeq) => purgeBelow(events, showId, replacedSeq, log),
    });
    const catalog = new PostgresCatalog(pool);
    const bookings = new PostgresBookingStore(pool, {
      groupCommit: overrides.bookingGroupCommit ?? config.bookingGroupCommit ?? true,
      writesInFlight: overrides.bookingWritesInFlight ?? config.bookingWritesInFlight ?? DEFAULT_BOOKING_WRITES_IN_FLIGHT,
    });
    log.info({ stream: events.stream, subjects: `${events.subjectPrefix}.>` }, 'durable storage open');
    const conn = nc;
    const pgPool = pool;
    let closing: Promise<void> | null = null;
    return {
      kind: 'durable',
      log: events,
      snapshots,
      catalog,
      bus,
      bookings,
      archive: bookings,
      outSink,
      close: () =>
        (closing ??= (async () => {
          await Promise.allSettled([events.close(), snapshots.close(), catalog.close(), bookings.close(), bus.close()]);
          // drain: flush what was published (out-events, deltas) before the socket closes.
          const results = await Promise.allSettled([conn.isClosed() ? Promise.resolve() : conn.drain(), pgPool.end()]);
          const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
          if (failed) throw failed.reason;
        })()),
    };
  } catch (err) {
    await Promise.allSettled([nc?.close(), pool?.end()]);
    throw err;
  }
}
