import { connect, type NatsConnection } from 'nats';
import type pg from 'pg';
import { ConfigError, type Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Storage } from './index.ts';
import { JetStreamEventLog, type JetStreamEventLogOptions } from './jetstream-event-log.ts';
import { NatsBus } from './nats-bus.ts';
import { PostgresBookingStore } from './postgres-booking-store.ts';
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
  /** Booking upserts in flight at once; calls beyond share the next statement. */
  bookingWritesInFlight?: number;
  /** Passed to the JetStream log (duplicate window, message size, timeouts, read mode). */
  log?: Omit<JetStreamEventLogOptions, 'logger' | 'stream' | 'subjectPrefix' | 'ownsConnection'>;
  /** Name the connections carry (NATS client name, Postgres application_name). */
  clientName?: string;
}

export async function connectNats(url: string, name: string, logger: Logger): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(',').map((s) => s.trim()),
    name,
    timeout: DEFAULT_NATS_CONNECT_TIMEOUT_MS,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  });
  const log = logger.child({ subsystem: 'nats' });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') log.warn({ status: s.type, data: String(s.data) }, 'nats connection status');
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
  config: Pick<Config, 'natsUrl' | 'databaseUrl' | 'nodeId'>,
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
      ...(overrides.stream !== undefined ? { stream: overrides.stream } : {}),
      ...(overrides.eventSubjectPrefix !== undefined ? { subjectPrefix: overrides.eventSubjectPrefix } : {}),
    });
    const bus = new NatsBus(nc, { logger, ...(overrides.busSubjectPrefix ? { subjectPrefix: overrides.busSubjectPrefix } : {}) });
    const snapshots = new PostgresSnapshotStore(pool);
    const catalog = new PostgresCatalog(pool);
    const bookings = new PostgresBookingStore(pool, overrides.bookingWritesInFlight !== undefined ? { writesInFlight: overrides.bookingWritesInFlight } : {});
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
