import { DeadlineHeap } from './deadline-heap.ts';
import type { SeatMap } from './seat-map.ts';
import { seatMapOf } from './seat-map.ts';
import { NO_FORGOTTEN_SALES, seatTally, type ForgottenSales, type SalesTally, type SeatTally } from './report-tally.ts';
import type { BookingCancelReason, HoldEndReason, KeyedRecord, PriceQuote, ShowDefinition, ShowStatus } from './types.ts';

export interface HoldRecord {
  holdId: string;
  seats: number[];
  createdAt: number;
  expiresAt: number;
  customerId?: string;
  /**
   * The price quoted when the hold was made, in layout order: what a confirm books, whatever
   * prices, times or offers do meanwhile. Absent only for holds from older snapshots.
   */
  quote?: PriceQuote;
}

export interface BookingRecord {
  bookingId: string;
  holdId: string;
  /** Labels, not indices: a booking outlives layout changes and is shown to people. */
  seats: string[];
  quote: PriceQuote;
  paymentRef?: string;
  customerId?: string;
  confirmedAt: number;
  status: 'confirmed' | 'cancelled';
  cancelledAt?: number;
  cancelReason?: BookingCancelReason;
  /** Minor units owed back once cancelled; absent (older logs): the whole total. */
  refundDue?: number;
  refundPercent?: number;
}

/** How a hold that is no longer active ended; kept (bounded) so late calls get the right error. */
export interface EndedHold {
  reason: HoldEndReason;
  /** Event time it ended (absent for holds ended before times were kept: forgotten first). */
  at?: number;
}

export interface SeatCounts {
  available: number;
  held: number;
  booked: number;
  blocked: number;
}

/**
 * Everything one show knows. Mutated only by `evolve` (and by the shell's `logSeq`
 * bookkeeping); replicas and recovery rebuild it from events alone.
 */
export interface ShowState {
  def: ShowDefinition;
  status: ShowStatus;
  cancelReason?: string;
  /** One per event; the version the seat map reflects. */
  version: number;
  /** Bumped on every layout change, so clients know when seat labels must be re-read. */
  layoutVersion: number;
  /** Log position of the last batch applied (set by the shell, not by events). */
  logSeq: number;
  seatMap: SeatMap;
  /** SEAT_* code per seat index. */
  seatStatus: Uint8Array;
  counts: SeatCounts;
  holds: Map<string, HoldRecord>;
  bookings: Map<string, BookingRecord>;
  /**
   * Derived, never serialized: cancelled bookings by id -> cancellation time, in the order
   * they were cancelled, so the host finds the ones due to be forgotten without a scan.
   */
  cancelledOrder: Map<string, number>;
  endedHolds: Map<string, EndedHold>;
  /** Hold id -> the booking it became; lets a retried confirm find its booking. */
  bookingByHold: Map<string, string>;
  /**
   * Compact results of keyed commands by key, oldest first, so a retry after a crash gets
   * the first answer. Kept by event time (see idempotency.ts), not by count.
   */
  idempotent: Map<string, KeyedRecord>;
  /** When each key of `idempotent` may be forgotten; derived from it (never serialized). */
  keyExpiry: DeadlineHeap;
  /**
   * Derived, never serialized: customerId -> seats in its active holds and confirmed bookings,
   * so the per-customer cap costs O(1) per hold. Kept by evolve (customer-seats.ts), rebuilt
   * from holds and bookings when a snapshot is loaded.
   */
  seatsByCustomer: Map<string, number>;
  /** Derived, never serialized: seat counts per category and section (report-tally.ts). */
  tally: SeatTally;
  /** Derived, never serialized: sales of the bookings kept plus `forgottenSales` (report-tally.ts). */
  sales: SalesTally;
  /** Serialized: what the cancelled bookings the show has forgotten added to its sales. */
  forgottenSales: ForgottenSales;
}

/**
 * How many released/expired holds a show remembers, oldest forgotten first. Per show, so
 * 1,000 busy shows stay in memory: past this a late call on a long-gone hold gets
 * HOLD_NOT_FOUND instead of HOLD_EXPIRED (still a refusal, nothing changes).
 */
export const ENDED_HOLDS_KEPT = 1_024;

export function initialState(def: ShowDefinition): ShowState {
  const seatMap = seatMapOf(def);
  const capacity = seatMap.capacity;
  const seatStatus = new Uint8Array(capacity);
  return {
    def,
    status: 'scheduled',
    version: 0,
    layoutVersion: 1,
    logSeq: 0,
    seatMap,
    seatStatus,
    counts: { available: capacity, held: 0, booked: 0, blocked: 0 },
    holds: new Map(),
    bookings: new Map(),
    cancelledOrder: new Map(),
    endedHolds: new Map(),
    bookingByHold: new Map(),
    idempotent: new Map(),
    seatsByCustomer: new Map(),
    keyExpiry: new DeadlineHeap(),
    tally: seatTally(seatMap, seatStatus),
    sales: { bookings: 0, seats: 0, gross: 0, refunded: 0 },
    forgottenSales: NO_FORGOTTEN_SALES,
  };
}

export function capacityOf(state: ShowState): number {
  return state.seatStatus.length;
}

/** Adds to a bounded insertion-ordered map, evicting the oldest entry past `max`. */
export function rememberBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as K);
}
