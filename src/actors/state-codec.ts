import { countSeatsByCustomer } from './customer-seats.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import { cancelledOrderOf } from './forgetting.ts';
import { keyedResultOf, retentionMs } from './idempotency.ts';
import { NO_FORGOTTEN_SALES, salesOf, seatTally, type ForgottenSales } from './report-tally.ts';
import { buildSeatMap } from './seat-map.ts';
import type { ShowState } from './show-state.ts';
import type { CommandReply, KeyedRecord } from './types.ts';

/** JSON-safe form of a show's state: the seat statuses as base64, maps as entry lists. */
export interface SerializedState {
  /**
   * 2: idempotency keys as compact records (a cancel's may omit its booking ids: the retry names
   * them; older ones list them, still read); 1 (still read): as whole replies.
   */
  format: 1 | 2;
  def: ShowState['def'];
  status: ShowState['status'];
  cancelReason?: string;
  version: number;
  layoutVersion: number;
  logSeq: number;
  seatStatus: string;
  holds: Array<[string, import('./show-state.ts').HoldRecord]>;
  bookings: Array<[string, import('./show-state.ts').BookingRecord]>;
  endedHolds: Array<[string, import('./show-state.ts').EndedHold]>;
  bookingByHold: Array<[string, string]>;
  idempotent: Array<[string, KeyedRecord]>;
  /** What forgotten (cancelled) bookings added to the sales; absent: nothing forgotten yet. */
  forgottenSales?: ForgottenSales;
}

/**
 * A copy that shares nothing mutable with `state`: call it inside the actor's turn, and the
 * result is the state at exactly `state.logSeq` however long the caller takes to store it.
 */
export function serializeState(state: ShowState): SerializedState {
  return {
    format: 2,
    def: state.def,
    status: state.status,
    ...(state.cancelReason !== undefined ? { cancelReason: state.cancelReason } : {}),
    version: state.version,
    layoutVersion: state.layoutVersion,
    logSeq: state.logSeq,
    seatStatus: Buffer.from(state.seatStatus.buffer, state.seatStatus.byteOffset, state.seatStatus.byteLength).toString('base64'),
    holds: Array.from(state.holds, ([id, h]) => [id, { ...h, seats: h.seats.slice() }]),
    bookings: Array.from(state.bookings, ([id, b]) => [id, { ...b }]),
    endedHolds: Array.from(state.endedHolds, ([id, e]) => [id, { ...e }]),
    bookingByHold: [...state.bookingByHold],
    idempotent: Array.from(state.idempotent, ([key, r]) => [key, { ...r }]),
    ...(state.forgottenSales.gross !== 0 || state.forgottenSales.refunded !== 0 ? { forgottenSales: { ...state.forgottenSales } } : {}),
  };
}

export function deserializeState(s: SerializedState): ShowState {
  if (s.format !== 1 && s.format !== 2) throw new Error(`unknown snapshot format ${String(s.format)}`);
  const seatStatus = new Uint8Array(Buffer.from(s.seatStatus, 'base64'));
  const counts = { available: 0, held: 0, booked: 0, blocked: 0 };
  const keys = ['available', 'held', 'booked', 'blocked'] as const;
  for (let i = 0; i < seatStatus.length; i++) counts[keys[seatStatus[i]]]++;
  const idempotent = s.format === 2 ? new Map(s.idempotent) : legacyKeys(s);
  const seatMap = buildSeatMap(s.def.layout, s.def.categories);
  // Snapshots from before reports kept no forgotten sales: their forgotten bookings are not counted.
  const forgottenSales = s.forgottenSales ? { ...s.forgottenSales } : NO_FORGOTTEN_SALES;
  return {
    def: s.def,
    status: s.status,
    ...(s.cancelReason !== undefined ? { cancelReason: s.cancelReason } : {}),
    version: s.version,
    layoutVersion: s.layoutVersion,
    logSeq: s.logSeq,
    seatMap,
    seatStatus,
    counts,
    holds: new Map(s.holds),
    bookings: new Map(s.bookings),
    cancelledOrder: cancelledOrderOf(s.bookings.map(([, b]) => b)),
    endedHolds: new Map(s.endedHolds),
    bookingByHold: new Map(s.bookingByHold),
    idempotent,
    keyExpiry: expiryOf(idempotent),
    seatsByCustomer: countSeatsByCustomer(
      s.holds.map(([, h]) => h),
      s.bookings.map(([, b]) => b),
    ),
    tally: seatTally(seatMap, seatStatus),
    sales: salesOf(
      s.bookings.map(([, b]) => b),
      forgottenSales,
    ),
    forgottenSales,
  };
}

function expiryOf(keys: Map<string, KeyedRecord>): DeadlineHeap {
  const heap = new DeadlineHeap();
  for (const [key, r] of keys) heap.set(r.until, key);
  return heap;
}

/**
 * Keys of a format-1 snapshot (whole replies) as records: no fingerprint (any body matches,
 * as it did then), kept the default time from the newest moment the snapshot knows of.
 */
function legacyKeys(s: SerializedState): Map<string, KeyedRecord> {
  let newest = 0;
  for (const [, h] of s.holds) newest = Math.max(newest, h.createdAt);
  for (const [, b] of s.bookings) newest = Math.max(newest, b.confirmedAt, b.cancelledAt ?? 0);
  const until = newest + retentionMs(s.def, undefined);
  const keys = new Map<string, KeyedRecord>();
  for (const [key, reply] of s.idempotent as unknown as Array<[string, CommandReply]>) {
    const result = keyedResultOf(reply);
    if (result) keys.set(key, { fp: '', until, result });
  }
  return keys;
}
