import { DEFAULT_LIMITS, DEFAULT_OFFERS } from '../../src/actors/defaults.ts';
import { deleteSeatStreamsAt } from '../../testkit/seat-streams.ts';
import type { ShowCommand } from '../../src/actors/types.ts';
import { JetStreamEventLog } from '../../src/persistence/jetstream-event-log.ts';
import { showInput as fixtureInput } from '../../testkit/shows.ts';
import { connect, type NatsConnection } from 'nats';
import pg from 'pg';
import pino from 'pino';
import type { ShowDefinition } from '../../src/actors/types.ts';
import type { DurableOptions } from '../../src/persistence/durable-storage.ts';
import { SERVICE_URLS, uniqueName } from '../../testkit/services.ts';

/** Tests are quiet unless LOG_LEVEL says otherwise. */
export const testLogger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

/** The URL of another database on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(SERVICE_URLS.postgres);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVICE_URLS.postgres });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database; `drop` removes it (ending any connection still open). */
export async function createTestDatabase(prefix = 'seats_test'): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix).toLowerCase();
  // Identifiers cannot be parameters; uniqueName gives [a-z0-9_] only.
  if (!/^[a-z0-9_]{1,63}$/.test(name)) throw new Error(`bad database name ${name}`);
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: databaseUrl(name),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export function connectTestNats(name = 'seats-test'): Promise<NatsConnection> {
  return connect({ servers: SERVICE_URLS.nats, name });
}

export async function deleteStream(stream: string): Promise<void> {
  await deleteSeatStreamsAt(SERVICE_URLS.nats, stream);
}

/**
 * Everything one test needs for its own durable storage: a database, a stream name and
 * subject prefixes nobody else uses. `cleanup` drops the database and deletes the streams
 * (events, and `<stream>_OUT`, the out-events the storage creates beside it).
 */
export interface DurableTestEnv {
  config: { natsUrl: string; databaseUrl: string; nodeId: string | undefined };
  options: DurableOptions;
  stream: string;
  eventSubjectPrefix: string;
  busSubjectPrefix: string;
  databaseName: string;
  cleanup(): Promise<void>;
}

export async function durableTestEnv(prefix = 'dur'): Promise<DurableTestEnv> {
  const db = await createTestDatabase(`seats_${prefix}`);
  const id = uniqueName(prefix);
  const stream = `S_${id}`;
  const eventSubjectPrefix = `${id}.events`;
  const busSubjectPrefix = `${id}.bus`;
  return {
    config: { natsUrl: SERVICE_URLS.nats, databaseUrl: db.url, nodeId: undefined },
    options: { stream, eventSubjectPrefix, busSubjectPrefix },
    stream,
    eventSubjectPrefix,
    busSubjectPrefix,
    databaseName: db.name,
    cleanup: async () => {
      await Promise.allSettled([deleteStream(stream), db.drop()]);
    },
  };
}

/** The durable tests' name for the shared wait (testkit/wait.ts). */
export { until as eventually } from '../../testkit/wait.ts';

/** A show of `rows` × `perRow` seats for the seat service (limits and offers defaulted). */
export function showInput(id: string, rows = 4, perRow = 25): Omit<ShowDefinition, 'limits' | 'offers'> {
  return fixtureInput(id, rows, perRow);
}

/**
 * Two writers of the same shows, each on its own NATS connection and log object over one
 * stream of the test's own, as after a partition or a takeover race. `close` ends the
 * connections and deletes the stream.
 */
export async function twoLogsOnOneStream(
  prefix: string,
): Promise<{ logs: [JetStreamEventLog, JetStreamEventLog]; close(): Promise<void> }> {
  const id = uniqueName(prefix);
  const stream = `S_${id}`;
  const conns: NatsConnection[] = [];
  const open = async () => {
    const nc = await connectTestNats(`${prefix}-${conns.length}`);
    conns.push(nc);
    return JetStreamEventLog.open(nc, { logger: testLogger, stream, subjectPrefix: `${id}.events` });
  };
  const first = await open();
  const second = await open();
  return {
    logs: [first, second],
    close: async () => {
      for (const nc of conns) await nc.close();
      await deleteStream(stream);
    },
  };
}

/** The createShow command of a 2 × 10 show with the platform defaults. */
export function createShowCommand(showId: string): ShowCommand {
  return { type: 'createShow', def: { ...showInput(showId, 2, 10), limits: { ...DEFAULT_LIMITS }, offers: { ...DEFAULT_OFFERS } } };
}
