import './promise-with-resolvers.ts';
import { Agent, request } from 'node:http';
import * as restate from '@restatedev/restate-sdk';
import {
  BenchError,
  badInput,
  baselineEnv,
  notFound,
  planShow,
  serveBaseline,
  totalOf,
  type BaselineStore,
  type BookingResult,
  type CheckResult,
  type HoldResult,
  type SeatPlan,
  type ShowInput,
} from './kit.ts';

/**
 * A Restate virtual object per show (an actor platform peer): exclusive handlers hold,
 * confirm and release one after another per show key, with the seat map as one state
 * value (one letter per seat), holds and bookings as their own state keys, and hold
 * expiry as a delayed durable message to the object itself. This process is both the
 * Restate service endpoint (HTTP/2) and the small HTTP front that speaks the API; the
 * front calls the Restate ingress, which journals every invocation before running it.
 *
 * Env: PORT, ADMIN_TOKEN, RESTATE_INGRESS_URL, RESTATE_ADMIN_URL, RESTATE_ENDPOINT_PORT.
 */

interface HoldState {
  token: string;
  seats: number[];
  expiresAt: number;
}

/** Prices follow from the seats and the (immutable) layout, so the state keeps seats only. */
interface BookingState {
  holdId: string;
  seats: number[];
  status: 'confirmed' | 'cancelled';
}

type Outcome<T> = { ok: true; value: T } | { ok: false; code: string; status: number; seats?: number[] | undefined };

const fail = (code: string, status: number, seats?: number[]): Outcome<never> => ({ ok: false, code, status, seats });

function setSeats(map: string, seats: number[], letter: string): string {
  let out = map;
  for (const i of seats) out = out.slice(0, i) + letter + out.slice(i + 1);
  return out;
}

/** `count` free seats side by side in one row, front rows first. */
function bestAvailable(map: string, rows: Array<[number, number]>, count: number): number[] | null {
  for (const [start, n] of rows) {
    let run = 0;
    for (let i = start; i < start + n; i++) {
      run = map[i] === 'a' ? run + 1 : 0;
      if (run === count) return Array.from({ length: count }, (_, k) => i - count + 1 + k);
    }
  }
  return null;
}

const show = restate.object({
  name: 'show',
  handlers: {
    create: async (ctx: restate.ObjectContext, def: ShowInput): Promise<Outcome<null>> => {
      if ((await ctx.get<string>('status')) !== null) return fail('SHOW_EXISTS', 409);
      const plan = planShow(def);
      const capacity = plan.labels.length;
      ctx.set('def', def);
      ctx.set('rows', plan.rows);
      ctx.set('status', 'scheduled');
      ctx.set('seats', 'a'.repeat(capacity));
      return { ok: true, value: null };
    },

    hold: async (
      ctx: restate.ObjectContext,
      req: { seats?: number[]; count?: number; ttlMs: number; nowMs: number },
    ): Promise<Outcome<{ holdId: string; holdToken: string; seats: number[]; expiresAt: number }>> => {
      const [status, map] = await Promise.all([ctx.get<string>('status'), ctx.get<string>('seats')]);
      if (status === null || map === null) return fail('SHOW_NOT_FOUND', 404);
      if (status !== 'scheduled') return fail('SEAT_UNAVAILABLE', 409, []);
      let seats: number[];
      if (req.seats) {
        const taken = req.seats.filter((i) => map[i] !== 'a');
        if (taken.length > 0) return fail('SEAT_UNAVAILABLE', 409, taken);
        seats = req.seats;
      } else {
        const rows = (await ctx.get<Array<[number, number]>>('rows')) ?? [];
        const found = bestAvailable(map, rows, req.count ?? 1);
        if (!found) return fail('SEAT_UNAVAILABLE', 409, []);
        seats = found;
      }
      const holdId = `h_${ctx.rand.uuidv4()}`;
      const holdToken = ctx.rand.uuidv4();
      // The caller's clock rides in the input, so a replay sees the same value without a
      // journaled ctx.date.now() (which would cost a round trip to the server per hold).
      const expiresAt = req.nowMs + req.ttlMs;
      ctx.set('seats', setSeats(map, seats, 'h'));
      ctx.set<HoldState>(`h:${holdId}`, { token: holdToken, seats, expiresAt });
      ctx.genericSend({
        service: 'show',
        method: 'expire',
        key: ctx.key,
        parameter: holdId,
        // The SDK's JsonSerde declares `jsonSchema: object | undefined` where Serde has `jsonSchema?: object`.
        inputSerde: restate.serde.json as restate.Serde<string>,
        delay: req.ttlMs,
      });
      return { ok: true, value: { holdId, holdToken, seats, expiresAt } };
    },

    confirm: async (
      ctx: restate.ObjectContext,
      req: { holdId: string; token: string },
    ): Promise<Outcome<{ bookingId: string; seats: number[] }>> => {
      const [hold, map] = await Promise.all([ctx.get<HoldState>(`h:${req.holdId}`), ctx.get<string>('seats')]);
      if (!hold || map === null) return fail('HOLD_NOT_FOUND', 404);
      if (hold.token !== req.token) return fail('FORBIDDEN', 403);
      const bookingId = `b_${ctx.rand.uuidv4()}`;
      ctx.set('seats', setSeats(map, hold.seats, 'b'));
      ctx.set<BookingState>(`b:${bookingId}`, { holdId: req.holdId, seats: hold.seats, status: 'confirmed' });
      ctx.clear(`h:${req.holdId}`);
      return { ok: true, value: { bookingId, seats: hold.seats } };
    },

    release: async (ctx: restate.ObjectContext, req: { holdId: string; token: string }): Promise<Outcome<null>> => {
      const [hold, map] = await Promise.all([ctx.get<HoldState>(`h:${req.holdId}`), ctx.get<string>('seats')]);
      if (!hold || map === null) return fail('HOLD_NOT_FOUND', 404);
      if (hold.token !== req.token) return fail('FORBIDDEN', 403);
      ctx.set('seats', setSeats(map, hold.seats, 'a'));
      ctx.clear(`h:${req.holdId}`);
      return { ok: true, value: null };
    },

    expire: async (ctx: restate.ObjectContext, holdId: string): Promise<void> => {
      const hold = await ctx.get<HoldState>(`h:${holdId}`);
      const map = await ctx.get<string>('seats');
      if (!hold || map === null) return;
      ctx.set('seats', setSeats(map, hold.seats, 'a'));
      ctx.clear(`h:${holdId}`);
    },

    cancel: async (ctx: restate.ObjectContext): Promise<Outcome<number>> => {
      if ((await ctx.get<string>('status')) === null) return fail('SHOW_NOT_FOUND', 404);
      ctx.set('status', 'cancelled');
      let cancelled = 0;
      for (const key of await ctx.stateKeys()) {
        if (key.startsWith('h:')) ctx.clear(key);
        if (!key.startsWith('b:')) continue;
        const b = await ctx.get<BookingState>(key);
        if (b && b.status === 'confirmed') {
          ctx.set<BookingState>(key, { ...b, status: 'cancelled' });
          cancelled++;
        }
      }
      return { ok: true, value: cancelled };
    },

    seatMap: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext) => {
      const [status, seats, def] = await Promise.all([ctx.get<string>('status'), ctx.get<string>('seats'), ctx.get<ShowInput>('def')]);
      return { status, seats, def };
    }),

    booking: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext, bookingId: string) => {
      return (await ctx.get<BookingState>(`b:${bookingId}`)) ?? null;
    }),

    bookings: restate.handlers.object.shared(async (ctx: restate.ObjectSharedContext) => {
      const out: Array<BookingState & { id: string }> = [];
      for (const key of await ctx.stateKeys()) {
        if (!key.startsWith('b:')) continue;
        const b = await ctx.get<BookingState>(key);
        if (b) out.push({ ...b, id: key.slice(2) });
      }
      return out;
    }),
  },
});

// ------------------------------------------------------------------ the HTTP front

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function call<T>(ingress: URL, handler: string, key: string, body: unknown): Promise<T> {
  const payload = JSON.stringify(body ?? null);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: ingress.hostname,
        port: ingress.port,
        method: 'POST',
        path: `/show/${encodeURIComponent(key)}/${handler}`,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 500) >= 300) return reject(new Error(`restate ${handler}: ${res.statusCode} ${text}`));
          resolve(text ? (JSON.parse(text) as T) : (null as T));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

class RestateStore implements BaselineStore {
  readonly name = 'restate';
  private plans = new Map<string, SeatPlan>();

  constructor(private readonly ingress: URL) {}

  private async plan(showId: string): Promise<SeatPlan> {
    const cached = this.plans.get(showId);
    if (cached) return cached;
    const m = await call<{ def: ShowInput | null }>(this.ingress, 'seatMap', showId, null);
    if (!m.def) throw notFound('SHOW');
    const plan = planShow(m.def);
    this.plans.set(showId, plan);
    return plan;
  }

  private unwrap<T>(o: Outcome<T>, plan?: SeatPlan): T {
    if (o.ok) return o.value;
    throw new BenchError(
      o.code,
      o.status,
      o.code.toLowerCase(),
      o.seats?.map((i) => plan?.labels[i] ?? String(i)),
    );
  }

  async createShow(input: ShowInput): Promise<void> {
    this.unwrap(await call<Outcome<null>>(this.ingress, 'create', input.id, input));
    this.plans.set(input.id, planShow(input));
  }

  async seatStatuses(showId: string) {
    const plan = await this.plan(showId);
    const m = await call<{ status: string | null; seats: string | null }>(this.ingress, 'seatMap', showId, null);
    if (m.status === null || m.seats === null) throw notFound('SHOW');
    return { labels: plan.labels, statuses: m.seats, status: m.status };
  }

  async hold(showId: string, req: { seats?: string[]; count?: number }, ttlMs: number): Promise<HoldResult> {
    const plan = await this.plan(showId);
    const seats = req.seats?.map((l) => {
      const i = plan.indexByLabel.get(l);
      if (i === undefined) throw badInput(`unknown seat ${l}`);
      return i;
    });
    const o = await call<Outcome<{ holdId: string; holdToken: string; seats: number[]; expiresAt: number }>>(this.ingress, 'hold', showId, {
      seats,
      count: req.count,
      ttlMs,
      nowMs: Date.now(),
    });
    const h = this.unwrap(o, plan);
    return {
      holdId: h.holdId,
      holdToken: h.holdToken,
      seats: h.seats.map((i) => plan.labels[i]),
      expiresAt: new Date(h.expiresAt).toISOString(),
      total: totalOf(plan, h.seats),
      currency: plan.currency,
    };
  }

  async confirm(showId: string, holdId: string, token: string): Promise<BookingResult> {
    const plan = await this.plan(showId);
    const o = await call<Outcome<{ bookingId: string; seats: number[] }>>(this.ingress, 'confirm', showId, { holdId, token });
    const b = this.unwrap(o, plan);
    return {
      bookingId: b.bookingId,
      holdId,
      showId,
      seats: b.seats.map((i) => plan.labels[i]),
      total: totalOf(plan, b.seats),
      currency: plan.currency,
      status: 'confirmed',
    };
  }

  async release(showId: string, holdId: string, token: string): Promise<void> {
    this.unwrap(await call<Outcome<null>>(this.ingress, 'release', showId, { holdId, token }));
  }

  async getBooking(showId: string, bookingId: string): Promise<BookingResult> {
    const plan = await this.plan(showId);
    const b = await call<BookingState | null>(this.ingress, 'booking', showId, bookingId);
    if (!b) throw notFound('BOOKING');
    const seats = b.seats.map((i) => plan.labels[i]);
    return { bookingId, holdId: b.holdId, showId, seats, total: totalOf(plan, b.seats), currency: plan.currency, status: b.status };
  }

  async cancelShow(showId: string): Promise<{ cancelledBookings: number }> {
    return { cancelledBookings: this.unwrap(await call<Outcome<number>>(this.ingress, 'cancel', showId, null)) };
  }

  async check(showId: string): Promise<CheckResult> {
    const plan = await this.plan(showId);
    const { statuses } = await this.seatStatuses(showId);
    const bookings = (await call<Array<BookingState & { id: string }>>(this.ingress, 'bookings', showId, null)).filter(
      (b) => b.status === 'confirmed',
    );
    const named = new Map<number, number>();
    for (const b of bookings) for (const i of b.seats) named.set(i, (named.get(i) ?? 0) + 1);
    let bookedWithoutBooking = 0;
    let bookedSeats = 0;
    for (let i = 0; i < plan.labels.length; i++) {
      if (statuses[i] !== 'b') continue;
      bookedSeats++;
      if (!named.has(i)) bookedWithoutBooking++;
    }
    return {
      bookings: bookings.length,
      bookedSeats,
      seatsInSeveralBookings: [...named.values()].filter((n) => n > 1).length,
      bookedWithoutBooking,
      bookingSeatsNotBooked: [...named.keys()].filter((i) => statuses[i] !== 'b').length,
    };
  }

  async close(): Promise<void> {
    agent.destroy();
  }
}

/** Registers this process's service endpoint with the Restate server (idempotent with force). */
async function register(adminUrl: string, endpointPort: number): Promise<void> {
  const res = await fetch(new URL('/deployments', adminUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ uri: `http://127.0.0.1:${endpointPort}`, force: true }),
  });
  if (!res.ok) throw new Error(`registering the deployment failed: ${res.status} ${await res.text()}`);
}

async function main(): Promise<void> {
  const ingress = new URL(process.env.RESTATE_INGRESS_URL ?? 'http://127.0.0.1:8080');
  const adminUrl = process.env.RESTATE_ADMIN_URL ?? 'http://127.0.0.1:9070';
  const endpointPort = Number(process.env.RESTATE_ENDPOINT_PORT ?? 9080);
  await restate.endpoint().bind(show).listen(endpointPort);
  await register(adminUrl, endpointPort);
  await serveBaseline(new RestateStore(ingress), baselineEnv());
}

main().catch((err) => {
  process.stderr.write(`restate: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
