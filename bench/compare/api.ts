import { showBody } from './workload.ts';

/**
 * The runner's own calls to a backend (setup, reset, verification, clean-up) — not the
 * measured load, which autocannon sends. Plain fetch with keep-alive, not the typed client:
 * the peers (Postgres row locks, Redis Lua, Restate) answer the same paths but are not this
 * project, and every backend must get byte-for-byte the same requests.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

export interface SeatMapView {
  labels: string[];
  /** One letter per seat: a available, h held, b booked, x blocked. */
  seats: string;
}

export interface StoreCheck {
  bookings: number;
  bookedSeats: number;
  seatsInSeveralBookings: number;
  bookedWithoutBooking: number;
  bookingSeatsNotBooked: number;
}

const LETTER: Record<string, string> = { available: 'a', held: 'h', booked: 'b', blocked: 'x' };

export class Api {
  constructor(
    readonly baseUrl: string,
    private readonly adminToken: string,
  ) {}

  private async call(
    method: string,
    path: string,
    opts: { body?: unknown; admin?: boolean } = {},
  ): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = {};
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.admin) headers.authorization = `Bearer ${this.adminToken}`;
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      body: opts.body === undefined ? null : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(60_000),
    });
    return { status: res.status, text: await res.text() };
  }

  async createShow(id: string, seats: number): Promise<void> {
    const r = await this.call('POST', '/v1/shows', { body: showBody(id, seats), admin: true });
    if (r.status !== 201 && r.status !== 200) throw new ApiError(r.status, r.text, `create show ${id}`);
  }

  async cancelShow(id: string): Promise<void> {
    const r = await this.call('DELETE', `/v1/shows/${id}`, { body: {}, admin: true });
    if (r.status >= 300 && r.status !== 404 && r.status !== 409) throw new ApiError(r.status, r.text, `cancel show ${id}`);
  }

  async seatMap(id: string): Promise<SeatMapView> {
    const compact = await this.call('GET', `/v1/shows/${id}?format=compact`);
    if (compact.status === 200) {
      const m = JSON.parse(compact.text) as { labels?: string[]; seats?: unknown };
      if (Array.isArray(m.labels) && typeof m.seats === 'string') return { labels: m.labels, seats: m.seats };
    }
    const full = await this.call('GET', `/v1/shows/${id}`);
    if (full.status !== 200) throw new ApiError(full.status, full.text, `get show ${id}`);
    const m = JSON.parse(full.text) as { seats: Array<{ id: string; status: string }> };
    return { labels: m.seats.map((s) => s.id), seats: m.seats.map((s) => LETTER[s.status] ?? '?').join('') };
  }

  /** The booking as the backend has it, or null when it does not know it. */
  async booking(showId: string, bookingId: string): Promise<{ seats: string[]; status?: string } | null> {
    const r = await this.call('GET', `/v1/shows/${showId}/bookings/${bookingId}`);
    if (r.status === 404) return null;
    if (r.status !== 200) throw new ApiError(r.status, r.text, `get booking ${bookingId}`);
    return JSON.parse(r.text) as { seats: string[]; status?: string };
  }

  /** A baseline's own store-level check (GET /bench/check/{id}); null when the backend has none. */
  async storeCheck(showId: string): Promise<StoreCheck | null> {
    const r = await this.call('GET', `/bench/check/${showId}`);
    if (r.status !== 200) return null;
    return JSON.parse(r.text) as StoreCheck;
  }

  async ready(): Promise<boolean> {
    try {
      return (await this.call('GET', '/readyz')).status === 200;
    } catch {
      return false;
    }
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; resolves in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
