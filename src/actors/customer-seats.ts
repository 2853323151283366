import type { BookingRecord, HoldRecord, ShowState } from './show-state.ts';

/**
 * The per-customer seat count behind `limits.maxSeatsPerCustomer`: seats in a customer's
 * active holds plus its confirmed bookings. Derived from holds and bookings alone, so evolve
 * keeps it with one call per change and a snapshot rebuilds it; entries at zero are removed
 * so a rebuilt count equals a kept one.
 */

function add(counts: Map<string, number>, customerId: string | undefined, seats: number): void {
  if (customerId === undefined || seats === 0) return;
  const next = (counts.get(customerId) ?? 0) + seats;
  if (next > 0) counts.set(customerId, next);
  else counts.delete(customerId);
}

/** A hold became active. */
export function holdStarted(state: ShowState, hold: HoldRecord): void {
  add(state.seatsByCustomer, hold.customerId, hold.seats.length);
}

/** A hold ended for any reason (a confirmed one is counted again as its booking). */
export function holdEnded(state: ShowState, hold: HoldRecord): void {
  add(state.seatsByCustomer, hold.customerId, -hold.seats.length);
}

/** A booking was confirmed. */
export function bookingConfirmed(state: ShowState, booking: BookingRecord): void {
  add(state.seatsByCustomer, booking.customerId, booking.seats.length);
}

/** A confirmed booking was cancelled. */
export function bookingCancelled(state: ShowState, booking: BookingRecord): void {
  add(state.seatsByCustomer, booking.customerId, -booking.seats.length);
}

/** The count from scratch (snapshot load, and tests comparing it with the kept one). */
export function countSeatsByCustomer(holds: Iterable<HoldRecord>, bookings: Iterable<BookingRecord>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const h of holds) add(counts, h.customerId, h.seats.length);
  for (const b of bookings) if (b.status === 'confirmed') add(counts, b.customerId, b.seats.length);
  return counts;
}

/** Seats `customerId` has held and booked in this show now. */
export function seatsOfCustomer(state: ShowState, customerId: string): number {
  return state.seatsByCustomer.get(customerId) ?? 0;
}
