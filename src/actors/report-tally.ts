import { rowOf, type SeatMap } from './seat-map.ts';

/**
 * The counters behind a show's report, kept by evolve so a report costs O(categories +
 * sections), never a scan of seats or bookings.
 *
 * Seat counters (SeatTally) are derived from the seat map and the seat statuses: per category
 * and per section, four statuses each, moved where evolve moves a seat's status and rebuilt
 * whenever the seat map is (layout or category change, snapshot load). No per-seat memory:
 * a seat's section is found from its row span.
 *
 * Sales counters (SalesTally) are derived from the bookings the show keeps plus the sums of
 * the cancelled bookings it has forgotten (ForgottenSales). Forgetting moves a booking's
 * amounts into ForgottenSales, so the totals do not change when bookings are forgotten, and
 * ForgottenSales is the one piece written into snapshots: a snapshot without the forgotten
 * bookings still rebuilds the same totals.
 */

/** Counters per status, in SEAT_* order: available, held, booked, blocked. */
const STATUSES = 4;

export interface SeatTally {
  /** Category ids, in the seat map's order (the index space of `seatMap.categoryOf`). */
  categories: string[];
  /** `byCategory[c * 4 + status]`: seats of category c in that status. */
  byCategory: Int32Array;
  /** Section ids in layout order of first appearance. */
  sections: string[];
  /** Section index of each row of the seat map. */
  rowSection: Uint16Array;
  /** `bySection[s * 4 + status]`: seats of section s in that status. */
  bySection: Int32Array;
}

/** The tally of a seat map from scratch: O(seats), on layout changes and snapshot loads only. */
export function seatTally(seatMap: SeatMap, seatStatus: Uint8Array): SeatTally {
  const sectionIndex = new Map<string, number>();
  const rowSection = new Uint16Array(seatMap.rows.length);
  seatMap.rows.forEach((row, r) => {
    let s = sectionIndex.get(row.section);
    if (s === undefined) sectionIndex.set(row.section, (s = sectionIndex.size));
    rowSection[r] = s;
  });
  const tally: SeatTally = {
    categories: seatMap.categories.slice(),
    byCategory: new Int32Array(seatMap.categories.length * STATUSES),
    sections: [...sectionIndex.keys()],
    rowSection,
    bySection: new Int32Array(sectionIndex.size * STATUSES),
  };
  seatMap.rows.forEach((row, r) => {
    const section = rowSection[r] * STATUSES;
    for (let seat = row.start; seat < row.start + row.count; seat++) {
      const status = seatStatus[seat];
      tally.byCategory[seatMap.categoryOf[seat] * STATUSES + status]++;
      tally.bySection[section + status]++;
    }
  });
  return tally;
}

/** One seat of `seatMap` went from status `from` to `to`. */
export function moveSeat(tally: SeatTally, seatMap: SeatMap, seat: number, from: number, to: number): void {
  const category = seatMap.categoryOf[seat] * STATUSES;
  tally.byCategory[category + from]--;
  tally.byCategory[category + to]++;
  const section = tally.sections.length === 1 ? 0 : tally.rowSection[rowOf(seatMap, seat)] * STATUSES;
  tally.bySection[section + from]--;
  tally.bySection[section + to]++;
}

/** Counts of one category or section as a report shows them. */
export function countsAt(counts: Int32Array, index: number): { available: number; held: number; booked: number; blocked: number } {
  const i = index * STATUSES;
  return { available: counts[i], held: counts[i + 1], booked: counts[i + 2], blocked: counts[i + 3] };
}

// ---------------------------------------------------------------- sales

/**
 * Money in minor units of the show's currency.
 * - `bookings`, `seats`: bookings confirmed and not cancelled now, and their seats.
 * - `gross`: the totals of every booking ever confirmed (cancelled ones included).
 * - `refunded`: the refunds due on every cancelled booking.
 * - net (reported, not kept) = gross - refunded.
 */
export interface SalesTally {
  bookings: number;
  seats: number;
  gross: number;
  refunded: number;
}

/** What the bookings a show has forgotten (all cancelled) added to its sales: kept in snapshots. */
export interface ForgottenSales {
  gross: number;
  refunded: number;
}

/**
 * What the tally reads of a booking (a BookingRecord of show-state.ts; declared here because
 * show-state builds on this file and imports nothing back).
 */
export interface TalliedBooking {
  seats: readonly string[];
  quote: { total: number };
  status: 'confirmed' | 'cancelled';
  refundDue?: number;
}

export const NO_FORGOTTEN_SALES: ForgottenSales = Object.freeze({ gross: 0, refunded: 0 });

/** The refund due on a cancelled booking, as its view says (views.ts): the one place the report reads a refund. */
export function refundDueOf(booking: TalliedBooking): number {
  // The refund the cancellation recorded (policy or admin percent); older events: the whole total.
  return booking.refundDue ?? booking.quote.total;
}

/** A booking was confirmed. */
export function saleConfirmed(sales: SalesTally, booking: TalliedBooking): void {
  sales.bookings++;
  sales.seats += booking.seats.length;
  sales.gross += booking.quote.total;
}

/** A confirmed booking was cancelled (`cancelled` is the record after the cancellation). */
export function saleCancelled(sales: SalesTally, cancelled: TalliedBooking): void {
  sales.bookings--;
  sales.seats -= cancelled.seats.length;
  sales.refunded += refundDueOf(cancelled);
}

/** A cancelled booking is forgotten: its amounts move into what the snapshot keeps; totals stay. */
export function saleForgotten(forgotten: ForgottenSales, cancelled: TalliedBooking): ForgottenSales {
  return { gross: forgotten.gross + cancelled.quote.total, refunded: forgotten.refunded + refundDueOf(cancelled) };
}

/** The sales from scratch: the bookings kept plus what the forgotten ones added (snapshot load, checks). */
export function salesOf(bookings: Iterable<TalliedBooking>, forgotten: ForgottenSales): SalesTally {
  const sales: SalesTally = { bookings: 0, seats: 0, gross: forgotten.gross, refunded: forgotten.refunded };
  for (const b of bookings) {
    sales.gross += b.quote.total;
    if (b.status === 'confirmed') {
      sales.bookings++;
      sales.seats += b.seats.length;
    } else sales.refunded += refundDueOf(b);
  }
  return sales;
}
