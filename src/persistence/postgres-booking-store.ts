import type pg from 'pg';
import type { BookingCancelReason, BookingView, PriceLine } from '../actors/types.ts';
import type { BookingStore } from './ports.ts';
import { pgFailure } from './postgres-pool.ts';

/** Rows per INSERT statement; a larger upsert is split into several inside one transaction. */
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
  };
}

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
          refundDue: total,
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
                        payment_ref, customer_id, confirmed_at, cancelled_at, cancel_reason, version)
  SELECT booking_id, show_id, hold_id, status, seats, total, currency, lines,
         payment_ref, customer_id, confirmed_at, cancelled_at, cancel_reason, 1
  FROM jsonb_to_recordset($1::jsonb) AS x(
    booking_id text, show_id text, hold_id text, status text, seats text[], total bigint, currency text,
    lines jsonb, payment_ref text, customer_id text, confirmed_at timestamptz, cancelled_at timestamptz,
    cancel_reason text)
  ON CONFLICT (booking_id) DO UPDATE
    SET status = EXCLUDED.status, cancelled_at = EXCLUDED.cancelled_at, cancel_reason = EXCLUDED.cancel_reason,
        version = bookings.version + 1
    WHERE bookings.status = 'confirmed' AND EXCLUDED.status = 'cancelled'`;

/**
 * Bookings in `bookings`. `upsert` resolves once its rows are committed (autocommit for one
 * statement, one transaction when split). Safe to call concurrently; the pool belongs to
 * the caller.
 */
export class PostgresBookingStore implements BookingStore {
  constructor(private readonly pool: pg.Pool) {}

  async upsert(bookings: BookingView[]): Promise<void> {
    if (bookings.length === 0) return;
    // One row per id (the last view wins): ON CONFLICT may not touch a row twice in a statement.
    const rows = [...new Map(bookings.map((b) => [b.bookingId, toRow(b)])).values()];
    try {
      if (rows.length <= BOOKING_ROWS_PER_STATEMENT) {
        await this.pool.query(UPSERT_SQL, [JSON.stringify(rows)]);
        return;
      }
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        for (let i = 0; i < rows.length; i += BOOKING_ROWS_PER_STATEMENT)
          await client.query(UPSERT_SQL, [JSON.stringify(rows.slice(i, i + BOOKING_ROWS_PER_STATEMENT))]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    } catch (err) {
      throw pgFailure(err, 'booking upsert');
    }
  }

  async get(showId: string, bookingId: string): Promise<BookingView | null> {
    try {
      const r = await this.pool.query<BookingRow>(
        `SELECT booking_id, show_id, hold_id, status, seats, total, currency, lines, payment_ref, customer_id,
                confirmed_at, cancelled_at, cancel_reason
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
                confirmed_at, cancelled_at, cancel_reason
         FROM bookings WHERE show_id = $1 ORDER BY confirmed_at, booking_id`,
        [showId],
      );
      return r.rows.map(fromRow);
    } catch (err) {
      throw pgFailure(err, 'booking query');
    }
  }

  async close(): Promise<void> {}
}
