import type { BookingRecord, ShowState } from './show-state.ts';
import type { ShowEvent } from './types.ts';

/**
 * What a show stops keeping in memory once nobody can still need it from memory: bookings
 * cancelled and holds ended longer ago than the show keeps idempotency keys (plus a margin),
 * so a retried command always finds what its key points at. Without this a long on-sale with
 * cancellations grows a show without bound (every booking ever made stays in its state and in
 * every snapshot). Forgotten bookings are read from the booking archive after (Postgres in
 * the cluster, `DATA_DIR/bookings/` embedded); the host archives them before it forgets them.
 */

/** Past the key retention, how much longer an ended record stays (a retry decided late still finds it). */
export const FORGET_MARGIN_MS = 60_000;
/** Most records one housekeeping command forgets (keeps the event small). */
export const FORGET_BATCH_MAX = 5_000;

export interface DueToForget {
  bookings: BookingRecord[];
  holdIds: string[];
}

/** Cancelled bookings and ended holds whose end is at or before `cutoff`, oldest first. Pure. */
export function dueToForget(state: ShowState, cutoff: number, bookingsToo = true, max = FORGET_BATCH_MAX): DueToForget {
  const bookings: BookingRecord[] = [];
  if (bookingsToo)
    for (const [id, at] of state.cancelledOrder) {
      if (at > cutoff || bookings.length >= max) break;
      const b = state.bookings.get(id);
      if (b) bookings.push(b);
    }
  const holdIds: string[] = [];
  for (const [id, ended] of state.endedHolds) {
    if ((ended.at ?? 0) > cutoff || holdIds.length >= max) break;
    holdIds.push(id);
  }
  return { bookings, holdIds };
}

/** Whether anything is due: a peek at the oldest entry of each, O(1). */
export function anythingDue(state: ShowState, cutoff: number, bookingsToo = true): boolean {
  const booking = state.cancelledOrder.values().next();
  if (bookingsToo && !booking.done && booking.value <= cutoff) return true;
  const hold = state.endedHolds.values().next();
  return !hold.done && (hold.value.at ?? 0) <= cutoff;
}

/** The event forgetting those of `ids` that are still ended; null when none is. Pure. */
export function forgetEvent(state: ShowState, bookingIds: readonly string[], holdIds: readonly string[], now: number): ShowEvent | null {
  const bookings = [...new Set(bookingIds)].filter((id) => state.bookings.get(id)?.status === 'cancelled');
  const holds = [...new Set(holdIds)].filter((id) => state.endedHolds.has(id));
  if (!bookings.length && !holds.length) return null;
  return { type: 'EndedForgotten', bookingIds: bookings, holdIds: holds, at: now };
}

/** Cancelled bookings of a loaded state in cancellation order (the derived index evolve keeps live). */
export function cancelledOrderOf(bookings: Iterable<BookingRecord>): Map<string, number> {
  const cancelled: Array<[string, number]> = [];
  for (const b of bookings) if (b.status === 'cancelled') cancelled.push([b.bookingId, b.cancelledAt ?? 0]);
  cancelled.sort((a, b) => a[1] - b[1]);
  return new Map(cancelled);
}
