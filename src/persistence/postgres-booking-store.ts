import type pg from 'pg';
import type { BookingCancelReason, BookingView, PriceLine } from '../actors/types.ts';
import { ErrorCode } from '../errors.ts';
import type { BookingQuery, BookingStore } from '../core/ports.ts';
import { BookingGroupCommit, chunkRows, uniqueRows, type EncodedRow } from './booking-group-commit.ts';
import { recordBookingStatement } from './booking-write-metrics.ts';
import { pgFailure } from './postgres-pool.ts';

/** Rows per INSERT statement; one larger upsert is split into several inside one transaction. */
export const BOOKING_ROWS_PER_STATEMENT = 5_000;

interface BookingRow {
  booking_id: string;
  show_id: string;
  hold_id: string;
  status: 'confirmed' | 'cancelled';
  seats: string[];
  total: string | number;
  currency: string;
  lines: PriceLine[];
  payment_ref: string | null;
  customer_id: string | null;
  confirmed_at: Date | string;
  cancelled_at: Date | string | null;
  cancel_reason: string | null;
  refund_due: string | number | null;
  refund_percent: number | null;
}

function toRow(b: BookingView): BookingRow {
  return {
    booking_id: b.bookingId,
    show_id: b.showId,
    hold_id: b.holdId,
    status: b.status,
    seats: b.seats,
    total: b.total,
    currency: b.currency,
    lines: b.lines,
    payment_ref: b.paymentRef ?? null,
    customer_id: b.customerId ?? null,
    confirmed_at: b.confirmedAt,
    cancelled_at: b.cancelledAt ?? null,
    cancel_reason: b.cancelReason ?? null,
    refund_due: b.refundDue ?? null,
    refund_percent: b.refundPercent ?? null,
  };
}

const COLUMNS = `booking_id, show_id, hold_id, status, seats, total, currency, lines, payment_ref, customer_id,
                confirmed_at, cancelled_at, cancel_reason, refund_due, refund_percent`;

const iso = (d: Date | string | number): string => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());

/** The inverse of toRow; the same shape `bookingView` gives, optional fields left out when empty. */
function fromRow(r: BookingRow): BookingView {
  const total = Number(r.total);
  return {
    bookingId: r.booking_id,
    holdId: r.hold_id,
    showId: r.show_id,
    status: r.status,
    seats: r.seats,
    currency: r.currency,
    lines: r.lines,
    total,
    confirmedAt: iso(r.confirmed_at),
    ...(r.payment_ref !== null ? { paymentRef: r.payment_ref } : {}),
    ...(r.customer_id !== null ? { customerId: r.customer_id } : {}),
    ...(r.status === 'cancelled'
      ? {
          cancelledAt: iso(r.cancelled_at ?? 0),
          ...(r.cancel_reason !== null ? { cancelReason: r.cancel_reason as BookingCancelReason } : {}),
          refundDue: r.refund_due !== null && r.refund_due !== undefined ? Number(r.refund_due) : total,
          ...(r.refund_percent !== null && r.refund_percent !== undefined ? { refundPercent: r.refund_percent } : {}),
        }
      : {}),
  };
}

/*
 * One statement for any number of rows: the rows travel as one JSON parameter. A booking
 * is immutable except for turning cancelled, so a conflicting row is only touched for that
 * transition; repeating an upsert (a retry, the repair after a crash) changes nothing.
 */
const UPSERT_SQL = `
  INSERT INTO bookings (booking_id, show_id, hold_id, status, seats, total, currency, lines,
                        payment_ref, customer_id, confirmed_at, cancelled_at, cancel_reason, refund_due,
                        refund_percent, version)
  SELECT booking_id, show_id, hold_id, status, seats, total, currency, lines,
         payment_ref, customer_id, confirmed_at, cancelled_at, cancel_reason, refund_due, refund_percent, 1
  FROM jsonb_to_recordset($1::jsonb) AS x(
    booking_id text, show_id text, hold_id text, status text, seats text[], total bigint, currency text,
    lines jsonb, payment_ref text, customer_id text, confirmed_at timestamptz, cancelled_at timestamptz,
    cancel_reason text, refund_due bigint, refund_percent smallint)
  ON CONFLICT (booking_id) DO UPDATE
    SET status = EXCLUDED.status, cancelled_at = EXCLUDED.cancelled_at, cancel_reason = EXCLUDED.cancel_reason,
        refund_due = EXCLUDED.refund_due, refund_percent = EXCLUDED.refund_percent, version = bookings.version + 1
    WHERE bookings.status = 'confirmed' AND EXCLUDED.status = 'cancelled'`;

/**
 * Upsert statements in flight at once per store (per worker). While it runs, every show's
 * new rows gather and go out together when it returns: the statement in flight is the
 * commit window. One carries twice the rows per statement of two at about the same
 * confirms/s (bench/group-commit, three runs side by side), so Postgres does half the work.
 */
export const DEFAULT_BOOKING_WRITES_IN_FLIGHT = 1;
/** JSON bytes per statement; the rows travel as one parameter, so the 65,535-parameter limit never applies. */
export const BOOKING_BYTES_PER_STATEMENT = 4 * 1024 * 1024;

export interface PostgresBookingStoreOptions {
  /** Merge concurrent upserts across shows into shared statements (default true). */
  groupCommit?: boolean;
  /** Statements in flight at once under group commit (default DEFAULT_BOOKING_WRITES_IN_FLIGHT). */
  writesInFlight?: number;
  /** Rows per statement (default BOOKING_ROWS_PER_STATEMENT). */
  rowsPerStatement?: number;
  /** JSON bytes per statement (default BOOKING_BYTES_PER_STATEMENT). */
  bytesPerStatement?: number;
}

/** Statements this store sent, and the rows they carried (tests, benchmarks; the metrics have the same). */
export interface BookingWriteStats {
  statements: number;
  rows: number;
  failed: number;
}

const encode = (r: BookingRow): EncodedRow => ({ key: r.booking_id, json: JSON.stringify(r) });

/**
 * Bookings in `bookings`. `upsert` resolves once its rows are committed.
 *
 * Group commit across shows (booking-group-commit.ts): every show actor commits its own
 * batch's bookings before it replies, so with many busy shows the table would see one small
 * transaction per batch per show. Instead, calls that arrive while a statement is running
 * wait and go out merged in the next one (up to the row and byte limits); each caller is
 * answered when the statement carrying its rows commits. A lone call is written at once. If
 * Postgres is unavailable, every call merged into the statement fails (the actors answer
 * UNAVAILABLE and owe the rows, see src/projections/booking-rows.ts); if it refuses the rows, each call
 * is retried alone so one bad call fails only itself. With `groupCommit: false` every call
 * is its own statement, sent at once.
 *
 * Safe to call concurrently; the pool belongs to the caller.
 */
export class PostgresBookingStore implements BookingStore {
  private readonly limits: { maxRows: number; maxBytes: number };
  private readonly group: BookingGroupCommit | null;
  private readonly counts: BookingWriteStats = { statements: 0, rows: 0, failed: 0 };

  constructor(
    private readonly pool: pg.Pool,
    opts: PostgresBookingStoreOptions = {},
  ) {
    this.limits = {
      maxRows: Math.max(1, opts.rowsPerStatement ?? BOOKING_ROWS_PER_STATEMENT),
      maxBytes: Math.max(1, opts.bytesPerStatement ?? BOOKING_BYTES_PER_STATEMENT),
    };
    this.group =
      opts.groupCommit === false
        ? null
        : new BookingGroupCommit({
            ...this.limits,
            statementsInFlight: Math.max(1, opts.writesInFlight ?? DEFAULT_BOOKING_WRITES_IN_FLIGHT),
            write: (rows) => this.write(rows),
            retryAlone: (err) => pgFailure(err, 'booking upsert').code !== ErrorCode.UNAVAILABLE,
            failure: (err) => pgFailure(err, 'booking upsert'),
          });
  }

  get stats(): BookingWriteStats {
    return { ...this.counts };
  }

  /** Upsert calls waiting for the statement in flight to return (0 without group commit). */
  get waitingCalls(): number {
    return this.group?.waiting ?? 0;
  }

  upsert(bookings: BookingView[]): Promise<void> {
    if (bookings.length === 0) return Promise.resolve();
    const rows = bookings.map((b) => encode(toRow(b)));
    if (this.group) return this.group.submit(rows);
    return this.write(uniqueRows(rows)).catch((err: unknown) => {
      throw pgFailure(err, 'booking upsert');
    });
  }

  /** One statement, or, over the limits, several inside one transaction. */
  private async write(rows: EncodedRow[]): Promise<void> {
    const chunks = chunkRows(rows, this.limits);
    if (chunks.length === 1) {
      await this.statement(chunks[0], (sql, params) => this.pool.query(sql, params));
      return;
    }
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      for (const chunk of chunks) await this.statement(chunk, (sql, params) => client.query(sql, params));
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private async statement(rows: EncodedRow[], run: (sql: string, params: unknown[]) => Promise<unknown>): Promise<void> {
    this.counts.statements++;
    this.counts.rows += rows.length;
    try {
      await run(UPSERT_SQL, [`[${rows.map((r) => r.json).join(',')}]`]);
      recordBookingStatement(rows.length, true);
    } catch (err) {
      this.counts.failed++;
      recordBookingStatement(rows.length, false);
      throw err;
    }
  }

  async get(showId: string, bookingId: string): Promise<BookingView | null> {
    try {
      const r = await this.pool.query<BookingRow>(
        `SELECT booking_id, show_id, hold_id, status, seats, total, currency, lines, payment_ref, customer_id,
                confirmed_at, cancelled_at, cancel_reason, refund_due, refund_percent
         FROM bookings WHERE booking_id = $1 AND show_id = $2`,
        [bookingId, showId],
      );
      return r.rows[0] ? fromRow(r.rows[0]) : null;
    } catch (err) {
      throw pgFailure(err, 'booking query');
    }
  }

  /** Every booking of a show, oldest first (for other services, tests and repair checks). */
  async listByShow(showId: string): Promise<BookingView[]> {
    try {
      const r = await this.pool.query<BookingRow>(
        `SELECT booking_id, show_id, hold_id, status, seats, total, currency, lines, payment_ref, customer_id,
                confirmed_at, cancelled_at, cancel_reason, refund_due, refund_percent
         FROM bookings WHERE show_id = $1 ORDER BY confirmed_at, booking_id`,
        [showId],
      );
      return r.rows.map(fromRow);
    } catch (err) {
      throw pgFailure(err, 'booking query');
    }
  }

  /** One show's bookings in id order (byte order: `COLLATE "C"`), after `query.after`. */
  async list(showId: string, query: BookingQuery): Promise<BookingView[]> {
    try {
      const r = await this.pool.query<BookingRow>(
        `SELECT ${COLUMNS}
         FROM bookings
         WHERE show_id = $1 AND ($2::text IS NULL OR customer_id = $2) AND ($3::text IS NULL OR status = $3)
           AND ($4::text IS NULL OR booking_id COLLATE "C" > $4)
         ORDER BY booking_id COLLATE "C" LIMIT $5`,
        [showId, query.customerId ?? null, query.status ?? null, query.after ?? null, query.limit],
      );
      return r.rows.map(fromRow);
    } catch (err) {
      throw pgFailure(err, 'booking query');
    }
  }

  async close(): Promise<void> {}
}
