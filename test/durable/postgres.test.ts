import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import type { BookingView } from '../../src/actors/types.ts';
import type { ShowSummary } from '../../src/actors/views.ts';
import { PostgresBookingStore } from '../../src/persistence/postgres-booking-store.ts';
import { PostgresCatalog } from '../../src/persistence/postgres-catalog.ts';
import { loadMigrations, migrate } from '../../src/persistence/postgres-migrations.ts';
import { createPgPool } from '../../src/persistence/postgres-pool.ts';
import { needServices } from '../../testkit/services.ts';
import { createTestDatabase, testLogger } from './support.ts';

const skip = await needServices('postgres');

function summary(id: string, over: Partial<ShowSummary> = {}): ShowSummary {
  return {
    id,
    title: 'Dune',
    city: 'Pune',
    venue: 'Screen 1',
    startsAt: '2026-12-01T19:30:00+05:30',
    status: 'scheduled',
    version: 1,
    capacity: 100,
    available: 100,
    ...over,
  };
}

function booking(id: string, over: Partial<BookingView> = {}): BookingView {
  return {
    bookingId: id,
    holdId: `h-${id}`,
    showId: 's1',
    status: 'confirmed',
    seats: ['A-1', 'A-2'],
    currency: 'INR',
    lines: [
      { seat: 'A-1', category: 'gold', basePrice: 500, discounts: [], price: 500 },
      { seat: 'A-2', category: 'gold', basePrice: 500, discounts: [], price: 500 },
    ],
    total: 1000,
    confirmedAt: '2026-11-01T10:00:00.000Z',
    ...over,
  };
}

describe('postgres stores', { skip }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  before(async () => {
    db = await createTestDatabase('seats_pg');
    pool = createPgPool({ connectionString: db.url, logger: testLogger, max: 4, statementTimeoutMs: 1_234 });
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });

  it('applies the migrations once when several processes start at once', async () => {
    const pools = Array.from({ length: 4 }, () => createPgPool({ connectionString: db.url, logger: testLogger, max: 1 }));
    try {
      const applied = await Promise.all(pools.map((p) => migrate(p, testLogger)));
      const all = (await loadMigrations()).map((m) => m.version);
      assert.deepEqual(applied.flat().sort(), all, 'every migration applied by exactly one process');
      assert.deepEqual(await migrate(pool, testLogger), []);
      const rows = await pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(
        rows.rows.map((r) => r.version),
        all,
      );
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('sets statement_timeout on every connection', async () => {
    const r = await pool.query<{ statement_timeout: string }>('SHOW statement_timeout');
    assert.equal(r.rows[0].statement_timeout, '1234ms');
    await assert.rejects(pool.query('SELECT pg_sleep(3)'), { code: '57014' });
  });

  it('rolls back a failing migration run entirely', async () => {
    const fresh = await createTestDatabase('seats_pgbad');
    const p = createPgPool({ connectionString: fresh.url, logger: testLogger, max: 1 });
    try {
      const good = await loadMigrations();
      await assert.rejects(migrate(p, testLogger, [...good, { version: 999, name: '999_broken', sql: 'SELECT * FROM no_such_table' }]));
      const tables = await p.query(
        "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('shows', 'schema_migrations')",
      );
      assert.equal(tables.rows[0].n, 0);
    } finally {
      await p.end();
      await fresh.drop();
    }
  });

  it('lists the catalog by city, local date and text, ordered by start, never moving a show backwards', async () => {
    const catalog = new PostgresCatalog(pool);
    await catalog.upsert(summary('c1', { startsAt: '2026-12-01T21:00:00+05:30' }));
    await catalog.upsert(summary('c2', { title: 'Oppenheimer', startsAt: '2026-12-01T18:00:00+05:30' }));
    await catalog.upsert(summary('c3', { city: 'Mumbai', venue: 'IMAX 100%' }));
    // A local date differs from the UTC date: 00:30 in Pune on the 2nd is the 1st in UTC.
    await catalog.upsert(summary('c4', { startsAt: '2026-12-02T00:30:00+05:30' }));
    await catalog.upsert(summary('c1', { version: 5, title: 'Dune: Part Two', startsAt: '2026-12-01T21:00:00+05:30' }));
    await catalog.upsert(summary('c1', { version: 4, title: 'stale' }));
    const ids = async (f: Parameters<PostgresCatalog['list']>[0]) => (await catalog.list(f)).map((s) => s.id);
    assert.deepEqual(await ids({ city: 'pune', date: '2026-12-01' }), ['c2', 'c1']);
    assert.deepEqual(await ids({ date: '2026-12-02' }), ['c4']);
    assert.deepEqual(await ids({ q: 'PART two' }), ['c1']);
    assert.deepEqual(await ids({ q: '100%' }), ['c3']);
    assert.deepEqual(await ids({ q: '%' }), ['c3'], 'LIKE wildcards in q match themselves');
    assert.deepEqual(await ids({ date: 'not-a-date' }), []);
    assert.deepEqual(await ids({ city: 'Pune', limit: 1, offset: 1 }), ['c1']);
    assert.equal((await catalog.list({ q: 'part' }))[0].version, 5);
  });

  it('upserts bookings idempotently in one statement; cancelled is final', async () => {
    const store = new PostgresBookingStore(pool);
    const a = booking('b1', { paymentRef: 'pay-1', customerId: 'cust-1' });
    const b = booking('b2');
    await store.upsert([a, b]);
    await store.upsert([a, b]);
    assert.deepEqual(await store.get('s1', 'b1'), a);
    assert.deepEqual(await store.get('s1', 'b2'), b);
    assert.equal(await store.get('other-show', 'b1'), null);
    const cancelled = {
      ...b,
      status: 'cancelled' as const,
      cancelledAt: '2026-11-02T10:00:00.000Z',
      cancelReason: 'cancelled' as const,
      refundDue: 1000,
    };
    await store.upsert([cancelled]);
    await store.upsert([b]); // a late or repeated confirm does not undo a cancel
    assert.deepEqual(await store.get('s1', 'b2'), cancelled);
    const versions = await pool.query("SELECT booking_id, version FROM bookings WHERE show_id = 's1' ORDER BY booking_id");
    assert.deepEqual(
      versions.rows.map((r) => [r.booking_id, Number(r.version)]),
      [
        ['b1', 1],
        ['b2', 2],
      ],
    );
  });

  it('merges concurrent upserts into few statements, and a refused call fails alone', async () => {
    let statements = 0;
    const counting = Object.create(pool) as pg.Pool;
    counting.query = ((...a: Parameters<pg.Pool['query']>) => {
      statements++;
      return (pool.query as (...x: unknown[]) => unknown)(...a);
    }) as pg.Pool['query'];
    const store = new PostgresBookingStore(counting, { writesInFlight: 1 });
    const calls = Array.from({ length: 50 }, (_, i) => store.upsert([booking(`g${i}`, { showId: 'group' })]));
    await Promise.all(calls);
    assert.ok(statements <= 3, `${statements} statements for 50 calls`);
    const mixed = [
      ...Array.from({ length: 10 }, (_, i) => store.upsert([booking(`g${50 + i}`, { showId: 'group' })])),
      store.upsert([booking('bad', { showId: 'group', status: 'bogus' as 'confirmed' })]),
    ];
    const results = await Promise.allSettled(mixed);
    assert.deepEqual(
      results.slice(0, 10).map((r) => r.status),
      Array(10).fill('fulfilled'),
    );
    assert.equal((results[10] as PromiseRejectedResult).reason.code, 'INTERNAL');
    assert.equal((await store.listByShow('group')).length, 60);
  });

  it('upserts more rows than one statement takes', async () => {
    const store = new PostgresBookingStore(pool);
    const many = Array.from({ length: 12_000 }, (_, i) => booking(`m${i}`, { showId: 'big' }));
    await store.upsert(many);
    assert.equal((await store.listByShow('big')).length, 12_000);
  });
});
