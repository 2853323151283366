import pg from 'pg';
import { createDatabase, dropDatabase } from '../lib/pg-admin.ts';
import {
  badInput,
  baselineEnv,
  holdGone,
  newId,
  newToken,
  notFound,
  planShow,
  sameToken,
  serveBaseline,
  unavailable,
  wrongToken,
  type BaselineStore,
  type BookingResult,
  type CheckResult,
  type HoldResult,
  type ShowInput,
  BOOKINGS_DDL,
  readBooking,
} from './kit.ts';

/**
 * The textbook design: seats are rows; every hold and confirm is one transaction that
 * locks the rows it changes (`SELECT … FOR UPDATE`, then `UPDATE`), bookings are
 * inserted in the confirm's transaction, and a periodic sweep returns expired holds.
 * Best available: a window query over the front-most free seats (a partial index keeps
 * that cheap) finds free runs in a row, then locks one with `FOR UPDATE SKIP LOCKED` so
 * concurrent searches do not queue behind each other.
 *
 * Env: PORT, ADMIN_TOKEN, BENCH_DB_NAME (created here, dropped on exit), BENCH_PG_URL,
 * PG_POOL_SIZE (default 16), SWEEP_MS (default 1000).
 */

const POOL_SIZE = Number(process.env.PG_POOL_SIZE ?? 16);
const SWEEP_INTERVAL_MS = Number(process.env.SWEEP_MS ?? 1000);
const CANDIDATE_RUNS = 8;
const FRONT_FREE_SEATS = 400;

const SCHEMA = `
CREATE TABLE shows (
  id text PRIMARY KEY,
  status text NOT NULL DEFAULT 'scheduled',
  currency text NOT NULL,
  def jsonb NOT NULL
);
CREATE TABLE seats (
  show_id text NOT NULL,
  idx int NOT NULL,
  label text NOT NULL,
  row_idx int NOT NULL,
  category text NOT NULL,
  price int NOT NULL,
  status text NOT NULL DEFAULT 'available',
  hold_id text,
  hold_expires_at timestamptz,
  booking_id text,
  PRIMARY KEY (show_id, label)
);
CREATE UNIQUE INDEX seats_by_index ON seats (show_id, idx);
CREATE INDEX seats_held_expiry ON seats (hold_expires_at) WHERE status = 'held';
CREATE INDEX seats_free ON seats (show_id, row_idx, idx) WHERE status = 'available';
CREATE TABLE holds (
  id text PRIMARY KEY,
  show_id text NOT NULL,
  token text NOT NULL,
  seats text[] NOT NULL,
  total int NOT NULL,
  expires_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'active'
);
CREATE INDEX holds_active_expiry ON holds (expires_at) WHERE status = 'active';
${BOOKINGS_DDL}`;

type Tx = pg.PoolClient;

class PostgresRowLockStore implements BaselineStore {
  readonly name = 'postgres-row-lock';
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly dbName: string,
  ) {}

  start(): void {
    this.sweeper = setInterval(() => {
      this.sweep().catch((err) => process.stderr.write(`sweep failed: ${String(err)}\n`));
    }, SWEEP_INTERVAL_MS);
  }

  /** Returns every expired hold's seats to sale, in one statement. */
  private async sweep(): Promise<void> {
    await this.pool.query(
      `WITH expired AS (
         UPDATE holds SET status = 'expired' WHERE status = 'active' AND expires_at < now() RETURNING id, show_id)
       UPDATE seats s SET status = 'available', hold_id = NULL, hold_expires_at = NULL
         FROM expired e WHERE s.show_id = e.show_id AND s.hold_id = e.id AND s.status = 'held'`,
    );
  }

  private async tx<T>(fn: (c: Tx) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  async createShow(input: ShowInput): Promise<void> {
    const plan = planShow(input);
    await this.tx(async (c) => {
      await c.query('INSERT INTO shows (id, currency, def) VALUES ($1, $2, $3)', [input.id, plan.currency, JSON.stringify(input)]);
      await c.query(
        `INSERT INTO seats (show_id, idx, label, row_idx, category, price)
         SELECT $1, idx - 1, label, row_idx, category, price
           FROM unnest($2::text[], $3::int[], $4::text[], $5::int[]) WITH ORDINALITY AS t(label, row_idx, category, price, idx)`,
        [input.id, plan.labels, Array.from(plan.rowOf), plan.categories, Array.from(plan.prices)],
      );
    });
  }

  async seatStatuses(showId: string) {
    const show = await this.pool.query<{ status: string }>('SELECT status FROM shows WHERE id = $1', [showId]);
    if (show.rowCount === 0) throw notFound('SHOW');
    const r = await this.pool.query<{ label: string; status: string }>('SELECT label, status FROM seats WHERE show_id = $1 ORDER BY idx', [
      showId,
    ]);
    return { labels: r.rows.map((x) => x.label), statuses: r.rows.map((x) => x.status[0]).join(''), status: show.rows[0].status };
  }

  private async liveShow(c: Tx, showId: string): Promise<string> {
    const r = await c.query<{ currency: string; status: string }>('SELECT currency, status FROM shows WHERE id = $1', [showId]);
    if (r.rowCount === 0) throw notFound('SHOW');
    if (r.rows[0].status !== 'scheduled') throw unavailable([]);
    return r.rows[0].currency;
  }

  async hold(showId: string, req: { seats?: string[]; count?: number }, ttlMs: number): Promise<HoldResult> {
    const holdId = newId('h');
    const holdToken = newToken();
    const expiresAt = new Date(Date.now() + ttlMs);
    return this.tx(async (c) => {
      const currency = await this.liveShow(c, showId);
      let rows: Array<{ label: string; price: number }>;
      if (req.seats) {
        const locked = await c.query<{ label: string; status: string; price: number }>(
          'SELECT label, status, price FROM seats WHERE show_id = $1 AND label = ANY($2) ORDER BY label FOR UPDATE',
          [showId, req.seats],
        );
        if (locked.rowCount !== req.seats.length) throw badInput('unknown seat');
        const taken = locked.rows.filter((r) => r.status !== 'available').map((r) => r.label);
        if (taken.length > 0) throw unavailable(taken);
        rows = locked.rows;
      } else {
        rows = await this.lockBestAvailable(c, showId, req.count ?? 1);
      }
      const labels = rows.map((r) => r.label);
      await c.query(`UPDATE seats SET status = 'held', hold_id = $3, hold_expires_at = $4 WHERE show_id = $1 AND label = ANY($2)`, [
        showId,
        labels,
        holdId,
        expiresAt,
      ]);
      const total = rows.reduce((s, r) => s + r.price, 0);
      await c.query('INSERT INTO holds (id, show_id, token, seats, total, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [
        holdId,
        showId,
        holdToken,
        labels,
        total,
        expiresAt,
      ]);
      return { holdId, holdToken, seats: labels, expiresAt: expiresAt.toISOString(), total, currency };
    });
  }

  /** `count` free seats side by side in one row, front rows first, locked; or SEAT_UNAVAILABLE. */
  private async lockBestAvailable(c: Tx, showId: string, count: number): Promise<Array<{ label: string; price: number }>> {
    // Look at the front-most free seats first (cheap through the partial index), the whole
    // show only when they hold no run long enough.
    let runs = await this.freeRuns(c, showId, count, FRONT_FREE_SEATS);
    if (runs.length === 0) runs = await this.freeRuns(c, showId, count, null);
    for (const run of runs) {
      const locked = await c.query<{ idx: number; label: string; price: number }>(
        `SELECT idx, label, price FROM seats
          WHERE show_id = $1 AND idx >= $2 AND idx < $3 AND status = 'available'
          ORDER BY idx FOR UPDATE SKIP LOCKED`,
        [showId, run.start, run.start + run.len],
      );
      // The rows we got may have holes (skipped or just taken): find `count` consecutive ones.
      let streak = 0;
      for (let i = 0; i < locked.rows.length; i++) {
        streak = i > 0 && locked.rows[i].idx === locked.rows[i - 1].idx + 1 ? streak + 1 : 1;
        if (streak === count) return locked.rows.slice(i - count + 1, i + 1);
      }
    }
    throw unavailable([]);
  }

  private async freeRuns(c: Tx, showId: string, count: number, limit: number | null): Promise<Array<{ start: number; len: number }>> {
    const r = await c.query<{ start: number; len: number }>(
      `WITH free AS (SELECT idx, row_idx FROM seats WHERE show_id = $1 AND status = 'available'
                      ORDER BY row_idx, idx ${limit === null ? '' : `LIMIT ${limit}`}),
            runs AS (SELECT row_idx, idx, idx - row_number() OVER (PARTITION BY row_idx ORDER BY idx) AS grp FROM free)
       SELECT min(idx) AS start, count(*)::int AS len FROM runs
        GROUP BY row_idx, grp HAVING count(*) >= $2 ORDER BY row_idx, min(idx) LIMIT ${CANDIDATE_RUNS}`,
      [showId, count],
    );
    return r.rows;
  }

  private async lockHold(c: Tx, showId: string, holdId: string, token: string) {
    const r = await c.query<{ show_id: string; token: string; seats: string[]; total: number; expires_at: Date; status: string }>(
      'SELECT show_id, token, seats, total, expires_at, status FROM holds WHERE id = $1 FOR UPDATE',
      [holdId],
    );
    const h = r.rows[0];
    if (!h || h.show_id !== showId) throw notFound('HOLD');
    if (!sameToken(h.token, token)) throw wrongToken();
    if (h.status !== 'active' || h.expires_at.getTime() < Date.now()) throw holdGone();
    return h;
  }

  async confirm(showId: string, holdId: string, token: string): Promise<BookingResult> {
    const bookingId = newId('b');
    return this.tx(async (c) => {
      const h = await this.lockHold(c, showId, holdId, token);
      const seats = await c.query(
        `UPDATE seats SET status = 'booked', booking_id = $3, hold_id = NULL, hold_expires_at = NULL
          WHERE show_id = $1 AND label = ANY($2) AND hold_id = $4 AND status = 'held'`,
        [showId, h.seats, bookingId, holdId],
      );
      if (seats.rowCount !== h.seats.length) throw holdGone();
      const show = await c.query<{ currency: string }>('SELECT currency FROM shows WHERE id = $1', [showId]);
      const currency = show.rows[0].currency;
      await c.query('INSERT INTO bookings (id, show_id, hold_id, seats, total, currency) VALUES ($1, $2, $3, $4, $5, $6)', [
        bookingId,
        showId,
        holdId,
        h.seats,
        h.total,
        currency,
      ]);
      await c.query(`UPDATE holds SET status = 'confirmed' WHERE id = $1`, [holdId]);
      return { bookingId, holdId, showId, seats: h.seats, total: h.total, currency, status: 'confirmed' };
    });
  }

  async release(showId: string, holdId: string, token: string): Promise<void> {
    await this.tx(async (c) => {
      await this.lockHold(c, showId, holdId, token);
      await c.query(
        `UPDATE seats SET status = 'available', hold_id = NULL, hold_expires_at = NULL
          WHERE show_id = $1 AND hold_id = $2 AND status = 'held'`,
        [showId, holdId],
      );
      await c.query(`UPDATE holds SET status = 'released' WHERE id = $1`, [holdId]);
    });
  }

  getBooking(showId: string, bookingId: string): Promise<BookingResult> {
    return readBooking(this.pool, showId, bookingId);
  }

  async cancelShow(showId: string): Promise<{ cancelledBookings: number }> {
    return this.tx(async (c) => {
      const s = await c.query(`UPDATE shows SET status = 'cancelled' WHERE id = $1 AND status = 'scheduled'`, [showId]);
      if (s.rowCount === 0) {
        const exists = await c.query('SELECT 1 FROM shows WHERE id = $1', [showId]);
        if (exists.rowCount === 0) throw notFound('SHOW');
      }
      await c.query(`UPDATE holds SET status = 'cancelled' WHERE show_id = $1 AND status = 'active'`, [showId]);
      const b = await c.query(`UPDATE bookings SET status = 'cancelled' WHERE show_id = $1 AND status = 'confirmed'`, [showId]);
      return { cancelledBookings: b.rowCount ?? 0 };
    });
  }

  async check(showId: string): Promise<CheckResult> {
    const q = async (sql: string) => Number((await this.pool.query<{ n: string }>(sql, [showId])).rows[0].n);
    return {
      bookings: await q(`SELECT count(*) AS n FROM bookings WHERE show_id = $1`),
      bookedSeats: await q(`SELECT count(*) AS n FROM seats WHERE show_id = $1 AND status = 'booked'`),
      seatsInSeveralBookings: await q(
        `SELECT count(*) AS n FROM (SELECT s FROM bookings b, unnest(b.seats) s
          WHERE b.show_id = $1 GROUP BY s HAVING count(*) > 1) x`,
      ),
      bookedWithoutBooking: await q(
        `SELECT count(*) AS n FROM seats s WHERE s.show_id = $1 AND s.status = 'booked' AND NOT EXISTS
           (SELECT 1 FROM bookings b WHERE b.id = s.booking_id AND s.label = ANY(b.seats))`,
      ),
      bookingSeatsNotBooked: await q(
        `SELECT count(*) AS n FROM bookings b, unnest(b.seats) l WHERE b.show_id = $1 AND NOT EXISTS
           (SELECT 1 FROM seats s WHERE s.show_id = b.show_id AND s.label = l AND s.status = 'booked' AND s.booking_id = b.id)`,
      ),
    };
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    await this.pool.end();
    await dropDatabase(this.dbName);
  }
}

async function main(): Promise<void> {
  const dbName = process.env.BENCH_DB_NAME ?? `bench_pgrl_${process.pid}_${Date.now().toString(36)}`;
  const url = await createDatabase(dbName);
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE });
  await pool.query(SCHEMA);
  const store = new PostgresRowLockStore(pool, dbName);
  store.start();
  await serveBaseline(store, baselineEnv());
}

main().catch((err) => {
  process.stderr.write(`postgres-row-lock: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
