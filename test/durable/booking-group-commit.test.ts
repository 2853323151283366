import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { ErrorCode, SeatError } from '../../src/errors.ts';
import { registry } from '../../src/metrics.ts';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openDurableStorage } from '../../src/persistence/durable-storage.ts';
import type { Storage } from '../../src/persistence/index.ts';
import { JetStreamEventLog } from '../../src/persistence/jetstream-event-log.ts';
import { PostgresBookingStore, type PostgresBookingStoreOptions } from '../../src/persistence/postgres-booking-store.ts';
import { createPgPool } from '../../src/persistence/postgres-pool.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { connectTestNats, deleteStream, durableTestEnv, eventually, showInput, testLogger, type DurableTestEnv } from './support.ts';

const skip = await needServices('postgres', 'nats');
const SECRET = 'group-commit-secret-0123456789abcdef';

/** What a statement gate decides for the n-th booking upsert (1-based): run it, or fail it as a lost connection. */
type Gate = (n: number, rows: unknown[]) => Promise<'run' | 'fail'>;

/** Booking statements counted by the metrics (every store of the process). */
async function statementsMetric(): Promise<{ statements: number; rows: number }> {
  const counter = await registry.getSingleMetric('seat_booking_statements_total')?.get();
  const rows = await registry.getSingleMetric('seat_booking_statement_rows')?.get();
  return {
    statements: (counter?.values ?? []).reduce((n, v) => n + v.value, 0),
    rows:
      (rows?.values as Array<{ metricName?: string; value: number }> | undefined)?.find(
        (v) => v.metricName === 'seat_booking_statement_rows_sum',
      )?.value ?? 0,
  };
}

/** A pool whose booking upserts pass through `gate` first; every other query goes straight through. */
function gatedPool(pool: pg.Pool, gate: Gate): pg.Pool {
  let n = 0;
  const wrapped = Object.create(pool) as pg.Pool;
  wrapped.query = (async (sql: string, params?: unknown[]) => {
    if (typeof sql === 'string' && sql.includes('INSERT INTO bookings')) {
      const rows = JSON.parse(String(params?.[0])) as unknown[];
      if ((await gate(++n, rows)) === 'fail') throw Object.assign(new Error('connection terminated unexpectedly'), { code: 'ECONNRESET' });
    }
    return pool.query(sql, params);
  }) as unknown as pg.Pool['query'];
  return wrapped;
}

describe('group commit of booking rows across shows', { skip }, () => {
  let env: DurableTestEnv;
  let pool: pg.Pool;
  const opened: Array<{ node: SeatNode; storage: Storage }> = [];

  before(async () => {
    env = await durableTestEnv('gcommit');
    pool = createPgPool({ connectionString: env.config.databaseUrl, logger: testLogger });
  });

  after(async () => {
    for (const o of opened) await o.node.close().catch(() => undefined);
    await pool?.end();
    await env?.cleanup();
  });

  /** A node on the test's durable storage whose bookings go through `store`. */
  async function openNode(store: (pool: pg.Pool) => PostgresBookingStore): Promise<{ node: SeatNode; bookings: PostgresBookingStore }> {
    const storage = await openDurableStorage(env.config, testLogger, env.options);
    const bookings = store(pool);
    const node = createSeatNode(
      { holdTokenSecret: SECRET, snapshotEveryEvents: 100_000, snapshotEveryMs: 3_600_000 },
      { ...storage, bookings, archive: bookings },
      testLogger,
    );
    opened.push({ node, storage });
    return { node, bookings };
  }

  /** `count` new shows, each with one hold ready to confirm. */
  async function showsWithHolds(node: SeatNode, count: number): Promise<Array<{ showId: string; holdId: string; holdToken: string }>> {
    return Promise.all(
      Array.from({ length: count }, async () => {
        const showId = uniqueName('gc');
        await node.service.createShow(showInput(showId, 2, 10));
        const h = await node.service.hold(showId, { seats: ['A-1', 'A-2'] });
        return { showId, holdId: h.holdId, holdToken: h.holdToken };
      }),
    );
  }

  async function rowOf(showId: string, bookingId: string): Promise<string | undefined> {
    const r = await pool.query('SELECT status FROM bookings WHERE show_id = $1 AND booking_id = $2', [showId, bookingId]);
    return r.rows[0]?.status as string | undefined;
  }

  it('writes the confirms of many shows in fewer statements than batches, every acknowledged row present', async () => {
    const shows = 40;
    const run = async (opts: PostgresBookingStoreOptions) => {
      const { node, bookings } = await openNode((p) => new PostgresBookingStore(p, opts));
      const held = await showsWithHolds(node, shows);
      const before = bookings.stats.statements;
      const metricBefore = await statementsMetric();
      const booked = await Promise.all(
        held.map((h) => node.service.confirm(h.showId, h.holdId, h.holdToken, { paymentRef: `pay-${h.holdId}` })),
      );
      const statements = bookings.stats.statements - before;
      const metricAfter = await statementsMetric();
      assert.equal(metricAfter.statements - metricBefore.statements, statements, 'the metric counts the same statements');
      assert.equal(metricAfter.rows - metricBefore.rows, shows, 'and one row per confirm');
      for (const [i, b] of booked.entries())
        assert.equal(await rowOf(held[i].showId, b.bookingId), 'confirmed', 'an acknowledged confirm has its row');
      return statements;
    };
    const grouped = await run({ groupCommit: true });
    const alone = await run({ groupCommit: false });
    assert.equal(alone, shows, 'without group commit: one statement per show batch');
    assert.ok(grouped < shows, `group commit: ${grouped} statements for ${shows} show batches`);
  });

  it('a failed grouped statement fails only its callers; their owed rows are repaired and nothing acknowledged is lost', async () => {
    let store: PostgresBookingStore | null = null;
    let secondStarted = false;
    let failedRows: Array<{ booking_id: string; show_id: string }> = [];
    const waveSize = 8;
    // One statement in flight, so each wave queues behind the one before: statement 1 (one
    // show) waits until the other early shows are queued behind it; statement 2 (those) waits
    // until the late shows are queued behind it, then fails as a lost connection.
    const gate: Gate = async (n, rows) => {
      if (n === 1) await eventually(() => (store?.waitingCalls ?? 0) >= waveSize, 20_000, 'wave B queued');
      if (n === 2) {
        secondStarted = true;
        await eventually(() => (store?.waitingCalls ?? 0) >= waveSize, 20_000, 'wave C queued');
        failedRows = rows as typeof failedRows;
        return 'fail';
      }
      return 'run';
    };
    const { node } = await openNode(
      (p) => (store = new PostgresBookingStore(gatedPool(p, gate), { groupCommit: true, writesInFlight: 1 })),
    );
    const held = await showsWithHolds(node, 1 + 2 * waveSize);
    const [early, late] = [held.slice(0, 1 + waveSize), held.slice(1 + waveSize)];
    const confirm = (h: (typeof held)[number]) =>
      node.service.confirm(h.showId, h.holdId, h.holdToken, { paymentRef: `pay-${h.holdId}` }, { idempotencyKey: `confirm-${h.holdId}` });
    const settle = (hs: typeof held) =>
      hs.map((h) =>
        confirm(h).then(
          (b) => ({ ok: true as const, b }),
          (err: unknown) => ({ ok: false as const, err }),
        ),
      );
    // The first of the early confirms to reach Postgres goes alone; the other early ones
    // share statement 2, which fails; the late ones are queued behind it and share statement 3.
    const first = settle(early);
    await eventually(() => secondStarted, 20_000, 'the second statement to start');
    const results = await Promise.all([...first, ...settle(late)]);

    const inFailed = new Set(failedRows.map((r) => r.show_id));
    assert.equal(inFailed.size, waveSize, 'the failed statement carried the early shows but the first');
    const failedShows = held.filter((h) => inFailed.has(h.showId));
    for (const [i, r] of results.entries()) {
      const h = held[i];
      if (!inFailed.has(h.showId)) {
        assert.ok(r.ok, 'callers outside the failed statement are answered');
        assert.equal(await rowOf(h.showId, r.b.bookingId), 'confirmed', 'an acknowledged booking has its row');
        continue;
      }
      assert.ok(!r.ok, 'every caller in the failed statement fails');
      assert.ok(r.err instanceof SeatError && r.err.code === ErrorCode.UNAVAILABLE && r.err.retryable, 'retryably');
    }
    assert.ok(
      late.every((h) => !inFailed.has(h.showId)),
      'the late shows went in a statement of their own',
    );

    // The log holds the failed confirms; their rows are owed, written in the background, and
    // the retried confirm answers the same booking.
    for (const h of failedShows) {
      const bookingId = await node.host.read(h.showId, (st) => st.bookingByHold.get(h.holdId));
      assert.ok(bookingId, 'the failed confirm is in the log');
      await eventually(async () => (await rowOf(h.showId, bookingId)) === 'confirmed', 20_000, 'the owed row to be written');
      const retried = await eventually(
        () => confirm(h).catch((err: SeatError) => (err.code === ErrorCode.UNAVAILABLE ? undefined : Promise.reject(err))),
        20_000,
        'the retried confirm to be answered',
      );
      assert.equal(retried.bookingId, bookingId, 'the retry answers the booking the log holds');
    }
    // Every booking of every show, per its state, has its row.
    for (const h of held) {
      const ids = await node.host.read(h.showId, (st) => [...st.bookings.keys()]);
      assert.equal(ids.length, 1);
      assert.equal(await rowOf(h.showId, ids[0]), 'confirmed');
    }
  });

  it('keeps the appends of many shows in flight together on one connection', async () => {
    const nc = await connectTestNats('group-commit-appends');
    const id = uniqueName('gcapp');
    const stream = `S_${id}`;
    // Appends are publishes acknowledged on the log's own reply subscription: count the
    // append publishes sent before the first of them is acknowledged.
    let published = 0;
    let publishedAtFirstAck = -1;
    const publish = nc.publish.bind(nc);
    nc.publish = ((subject: string, ...rest: unknown[]) => {
      if (subject.startsWith(`${id}.events.`)) published++;
      return (publish as (...a: unknown[]) => void)(subject, ...rest);
    }) as typeof nc.publish;
    try {
      const log = await JetStreamEventLog.open(nc, { logger: testLogger, stream, subjectPrefix: `${id}.events` });
      const shows = Array.from({ length: 50 }, (_, i) => `show${i}`);
      published = 0;
      const seqs = await Promise.all(
        shows.map((s) =>
          log
            .append(
              s,
              { batchId: `b-${s}`, firstVersion: 1, events: [{ type: 'HoldReleased', holdId: 'h', seats: [], at: 0 } as never] },
              0,
            )
            .then((seq) => {
              if (publishedAtFirstAck < 0) publishedAtFirstAck = published;
              return seq;
            }),
        ),
      );
      assert.equal(new Set(seqs).size, shows.length, 'each append got its own seq');
      assert.equal(publishedAtFirstAck, shows.length, 'every show had its append in flight at once');
      // Fencing per show is unchanged: a second append naming 0 again is refused.
      await assert.rejects(log.append('show0', { batchId: 'again', firstVersion: 2, events: [] }, 0), { code: 'NOT_OWNER' });
    } finally {
      await nc.close();
      await deleteStream(stream);
    }
  });
});
