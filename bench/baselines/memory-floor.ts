import {
  badInput,
  baselineEnv,
  holdGone,
  newId,
  newToken,
  notFound,
  planShow,
  sameToken,
  serveBaseline,
  totalOf,
  unavailable,
  wrongToken,
  type BaselineStore,
  type BookingResult,
  type CheckResult,
  type HoldResult,
  type SeatPlan,
  type ShowInput,
} from './kit.ts';

/**
 * Not a design anyone would ship: the seat map in a Map of this one process, no log, no
 * database, nothing kept across a restart. It is the floor of the comparison — what the same
 * node:http front and the same generator cost on this machine when the store costs nothing —
 * so a ratio over a peer that even this cannot reach is bounded by the machine, not by a
 * design. Env: PORT, ADMIN_TOKEN.
 */

interface Hold {
  token: string;
  seats: number[];
  expiresAt: number;
}

interface Show {
  plan: SeatPlan;
  status: 'scheduled' | 'cancelled';
  /** Per seat: the booking that owns it, or undefined. */
  bookedBy: Array<string | undefined>;
  /** Per seat: the hold that last took it (live only while that hold is in `holds` and unexpired). */
  heldBy: Array<string | undefined>;
  holds: Map<string, Hold>;
  bookings: Map<string, BookingResult>;
}

class MemoryStore implements BaselineStore {
  readonly name = 'memory-floor';
  private readonly shows = new Map<string, Show>();

  private show(showId: string): Show {
    const s = this.shows.get(showId);
    if (!s) throw notFound('SHOW');
    return s;
  }

  private free(s: Show, seat: number, now: number): boolean {
    if (s.bookedBy[seat] !== undefined) return false;
    const holdId = s.heldBy[seat];
    if (holdId === undefined) return true;
    const h = s.holds.get(holdId);
    return !h || h.expiresAt <= now;
  }

  async createShow(input: ShowInput): Promise<void> {
    const plan = planShow(input);
    const n = plan.labels.length;
    this.shows.set(input.id, {
      plan,
      status: 'scheduled',
      bookedBy: new Array(n).fill(undefined),
      heldBy: new Array(n).fill(undefined),
      holds: new Map(),
      bookings: new Map(),
    });
  }

  async seatStatuses(showId: string) {
    const s = this.show(showId);
    const now = Date.now();
    let statuses = '';
    for (let i = 0; i < s.plan.labels.length; i++) statuses += s.bookedBy[i] !== undefined ? 'b' : this.free(s, i, now) ? 'a' : 'h';
    return { labels: s.plan.labels, statuses, status: s.status };
  }

  async hold(showId: string, req: { seats?: string[]; count?: number }, ttlMs: number): Promise<HoldResult> {
    const s = this.show(showId);
    if (s.status !== 'scheduled') throw unavailable([]);
    const now = Date.now();
    let seats: number[];
    if (req.seats) {
      seats = req.seats.map((l) => {
        const i = s.plan.indexByLabel.get(l);
        if (i === undefined) throw badInput(`unknown seat ${l}`);
        return i;
      });
      const taken = req.seats.filter((_, k) => !this.free(s, seats[k] as number, now));
      if (taken.length > 0) throw unavailable(taken);
    } else {
      seats = this.best(s, req.count ?? 1, now);
    }
    const holdId = newId('h');
    const holdToken = newToken();
    const expiresAt = now + ttlMs;
    s.holds.set(holdId, { token: holdToken, seats, expiresAt });
    for (const i of seats) s.heldBy[i] = holdId;
    return {
      holdId,
      holdToken,
      seats: seats.map((i) => s.plan.labels[i] as string),
      expiresAt: new Date(expiresAt).toISOString(),
      total: totalOf(s.plan, seats),
      currency: s.plan.currency,
    };
  }

  /** The first run of `need` free seats in a row, front row first (as the Lua baseline picks). */
  private best(s: Show, need: number, now: number): number[] {
    for (const [start, count] of s.plan.rows) {
      let run = 0;
      for (let i = start; i < start + count; i++) {
        run = this.free(s, i, now) ? run + 1 : 0;
        if (run === need) return Array.from({ length: need }, (_, k) => i - need + 1 + k);
      }
    }
    throw unavailable([]);
  }

  private liveHold(s: Show, holdId: string, token: string): Hold {
    const h = s.holds.get(holdId);
    if (!h) throw notFound('HOLD');
    if (!sameToken(h.token, token)) throw wrongToken();
    if (h.expiresAt <= Date.now()) {
      s.holds.delete(holdId);
      throw holdGone();
    }
    return h;
  }

  async confirm(showId: string, holdId: string, token: string): Promise<BookingResult> {
    const s = this.show(showId);
    const h = this.liveHold(s, holdId, token);
    const bookingId = newId('b');
    s.holds.delete(holdId);
    for (const i of h.seats) s.bookedBy[i] = bookingId;
    const booking: BookingResult = {
      bookingId,
      holdId,
      showId,
      seats: h.seats.map((i) => s.plan.labels[i] as string),
      total: totalOf(s.plan, h.seats),
      currency: s.plan.currency,
      status: 'confirmed',
    };
    s.bookings.set(bookingId, booking);
    return booking;
  }

  async release(showId: string, holdId: string, token: string): Promise<void> {
    const s = this.show(showId);
    const h = s.holds.get(holdId);
    if (!h) throw notFound('HOLD');
    if (!sameToken(h.token, token)) throw wrongToken();
    s.holds.delete(holdId);
  }

  async getBooking(showId: string, bookingId: string): Promise<BookingResult> {
    const b = this.show(showId).bookings.get(bookingId);
    if (!b) throw notFound('BOOKING');
    return b;
  }

  async cancelShow(showId: string): Promise<{ cancelledBookings: number }> {
    const s = this.show(showId);
    s.status = 'cancelled';
    s.holds.clear();
    let cancelled = 0;
    for (const b of s.bookings.values())
      if (b.status === 'confirmed') {
        b.status = 'cancelled';
        cancelled++;
      }
    s.bookedBy.fill(undefined);
    return { cancelledBookings: cancelled };
  }

  async check(showId: string): Promise<CheckResult> {
    const s = this.show(showId);
    const live = [...s.bookings.values()].filter((b) => b.status === 'confirmed');
    const seen = new Map<string, number>();
    let notBooked = 0;
    for (const b of live)
      for (const l of b.seats) {
        seen.set(l, (seen.get(l) ?? 0) + 1);
        if (s.bookedBy[s.plan.indexByLabel.get(l) ?? -1] !== b.bookingId) notBooked++;
      }
    let orphans = 0;
    let booked = 0;
    s.bookedBy.forEach((bookingId, i) => {
      if (bookingId === undefined) return;
      booked++;
      if (!s.bookings.get(bookingId)?.seats.includes(s.plan.labels[i] as string)) orphans++;
    });
    return {
      bookings: live.length,
      bookedSeats: booked,
      seatsInSeveralBookings: [...seen.values()].filter((n) => n > 1).length,
      bookedWithoutBooking: orphans,
      bookingSeatsNotBooked: notBooked,
    };
  }

  async close(): Promise<void> {
    this.shows.clear();
  }
}

serveBaseline(new MemoryStore(), baselineEnv()).catch((err: unknown) => {
  process.stderr.write(`memory-floor: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
