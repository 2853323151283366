import { buildSeatMap } from './seat-map.ts';
import type { ShowState } from './show-state.ts';

/** JSON-safe form of a show's state: the seat statuses as base64, maps as entry lists. */
export interface SerializedState {
  format: 1;
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
  idempotent: Array<[string, import('./types.ts').CommandReply]>;
}

/**
 * A copy that shares nothing mutable with `state`: call it inside the actor's turn, and the
 * result is the state at exactly `state.logSeq` however long the caller takes to store it.
 */
export function serializeState(state: ShowState): SerializedState {
  return {
    format: 1,
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
    idempotent: [...state.idempotent],
  };
}

export function deserializeState(s: SerializedState): ShowState {
  if (s.format !== 1) throw new Error(`unknown snapshot format ${String(s.format)}`);
  const seatStatus = new Uint8Array(Buffer.from(s.seatStatus, 'base64'));
  const counts = { available: 0, held: 0, booked: 0, blocked: 0 };
  const keys = ['available', 'held', 'booked', 'blocked'] as const;
  for (let i = 0; i < seatStatus.length; i++) counts[keys[seatStatus[i]]]++;
  return {
    def: s.def,
    status: s.status,
    ...(s.cancelReason !== undefined ? { cancelReason: s.cancelReason } : {}),
    version: s.version,
    layoutVersion: s.layoutVersion,
    logSeq: s.logSeq,
    seatMap: buildSeatMap(s.def.layout, s.def.categories),
    seatStatus,
    counts,
    holds: new Map(s.holds),
    bookings: new Map(s.bookings),
    endedHolds: new Map(s.endedHolds),
    bookingByHold: new Map(s.bookingByHold),
    idempotent: new Map(s.idempotent),
  };
}
