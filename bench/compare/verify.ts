import { type Api, mapLimit } from './api.ts';

/**
 * The correctness check after a phase's measured window, per show instance:
 *  - oversold: seats named by more than one 2xx confirm, plus seats the store itself
 *    reports in several bookings (baselines' /bench/check);
 *  - lost: 2xx confirms whose seats are not booked in the final seat map, or whose booking
 *    the backend does not return (GET booking on a sample) with the same seats;
 *  - unattributed: booked seats no 2xx confirm accounts for (a confirm whose answer was
 *    cut off, e.g. by a timeout) — reported, not an error by itself.
 */

export interface Verdict {
  oversold: number;
  lost: number;
  unattributedBookedSeats: number;
  bookingsConfirmed: number;
  bookingsFetched: number;
  storeCheck: { bookedWithoutBooking: number; bookingSeatsNotBooked: number } | null;
  problems: string[];
}

const MAX_PROBLEMS = 10;

export async function verify(
  api: Api,
  showIds: string[],
  bookings: Array<[string, string, string[]]>,
  opts: { sampleBookings: number; concurrency: number },
): Promise<Verdict> {
  const v: Verdict = {
    oversold: 0,
    lost: 0,
    unattributedBookedSeats: 0,
    bookingsConfirmed: bookings.length,
    bookingsFetched: 0,
    storeCheck: null,
    problems: [],
  };
  const lostIds = new Set<string>();
  const note = (p: string) => {
    if (v.problems.length < MAX_PROBLEMS) v.problems.push(p);
  };
  const byShow = new Map<string, Array<[string, string[]]>>();
  for (const [showId, bookingId, seats] of bookings) {
    const list = byShow.get(showId) ?? [];
    list.push([bookingId, seats]);
    byShow.set(showId, list);
  }

  await mapLimit(showIds, opts.concurrency, async (showId) => {
    const mine = byShow.get(showId) ?? [];
    const owner = new Map<string, string>();
    for (const [bookingId, seats] of mine) {
      for (const s of seats) {
        if (owner.has(s)) {
          v.oversold++;
          note(`${showId} ${s}: confirmed to ${owner.get(s)} and ${bookingId}`);
        } else owner.set(s, bookingId);
      }
    }
    const map = await api.seatMap(showId);
    const booked = new Set<string>();
    map.labels.forEach((l, i) => {
      if (map.seats[i] === 'b') booked.add(l);
    });
    for (const [bookingId, seats] of mine) {
      const missing = seats.filter((s) => !booked.has(s));
      if (missing.length > 0) {
        lostIds.add(bookingId);
        note(`${showId} ${bookingId}: confirmed but ${missing.join(',')} not booked`);
      }
    }
    for (const l of booked) if (!owner.has(l)) v.unattributedBookedSeats++;
    const check = await api.storeCheck(showId);
    if (check) {
      v.storeCheck ??= { bookedWithoutBooking: 0, bookingSeatsNotBooked: 0 };
      v.oversold += check.seatsInSeveralBookings;
      v.storeCheck.bookedWithoutBooking += check.bookedWithoutBooking;
      v.storeCheck.bookingSeatsNotBooked += check.bookingSeatsNotBooked;
      if (check.seatsInSeveralBookings > 0) note(`${showId}: store has ${check.seatsInSeveralBookings} seats in several bookings`);
    }
  });

  // Every 2xx confirm must be a booking the backend returns: all of them, or an even sample.
  const step = Math.max(1, Math.ceil(bookings.length / Math.max(1, opts.sampleBookings)));
  const sample = bookings.filter((_, i) => i % step === 0);
  await mapLimit(sample, opts.concurrency, async ([showId, bookingId, seats]) => {
    const b = await api.booking(showId, bookingId);
    v.bookingsFetched++;
    if (!b || [...b.seats].sort().join(',') !== [...seats].sort().join(',')) {
      lostIds.add(bookingId);
      note(`${showId} ${bookingId}: ${b ? `returned seats ${b.seats.join(',')}` : 'not found'}`);
    }
  });
  v.lost = lostIds.size;
  return v;
}
