import type { BookingView } from '../actors/types.ts';

/** Bookings grouped by their show, each group in the given order (one pass, no copying). */
export function bookingsByShow(views: readonly BookingView[]): Map<string, BookingView[]> {
  const byShow = new Map<string, BookingView[]>();
  for (const v of views) {
    const group = byShow.get(v.showId);
    if (group) group.push(v);
    else byShow.set(v.showId, [v]);
  }
  return byShow;
}
