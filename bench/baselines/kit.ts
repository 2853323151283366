import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import { seatLabel } from '../../src/actors/seat-map.ts';

/**
 * What every baseline shares: the slice of the real HTTP API the comparison drives
 * (create/get/cancel show, hold, confirm, release, get booking) served by node:http over
 * a `BaselineStore`, plus `/bench/check/{showId}`, the store's own view of correctness.
 * Only the store differs between baselines, so the load generator is the same for all.
 */

export const DEFAULT_HOLD_TTL_MS = 600_000;
export const MAX_SEATS_PER_HOLD = 10;
const MAX_BODY_BYTES = 1024 * 1024;

// ------------------------------------------------------------------ show layout

export interface ShowInput {
  id: string;
  title?: string;
  categories: Array<{ id: string; price: number; currency: string }>;
  layout: { sections: Array<{ id: string; rows: Array<{ label: string; seats: number; category: string; firstNumber?: number }> }> };
}

/** A show's seats in index order: the same labels the real API derives from a layout. */
export interface SeatPlan {
  showId: string;
  currency: string;
  labels: string[];
  indexByLabel: Map<string, number>;
  prices: Int32Array;
  categories: string[];
  /** Seats `[start, start + count)` of each row, front row first. */
  rows: Array<[start: number, count: number]>;
  /** Row index of each seat. */
  rowOf: Int32Array;
}

export function planShow(input: ShowInput): SeatPlan {
  const price = new Map(input.categories.map((c) => [c.id, c.price]));
  const labels: string[] = [];
  const prices: number[] = [];
  const categories: string[] = [];
  const rowOf: number[] = [];
  const rows: Array<[number, number]> = [];
  for (const section of input.layout.sections) {
    for (const row of section.rows) {
      rows.push([labels.length, row.seats]);
      const first = row.firstNumber ?? 1;
      for (let n = 0; n < row.seats; n++) {
        labels.push(seatLabel(input.layout, section.id, row.label, first + n));
        prices.push(price.get(row.category) ?? 0);
        categories.push(row.category);
        rowOf.push(rows.length - 1);
      }
    }
  }
  return {
    showId: input.id,
    currency: input.categories[0]?.currency ?? 'INR',
    labels,
    indexByLabel: new Map(labels.map((l, i) => [l, i])),
    prices: Int32Array.from(prices),
    categories,
    rows,
    rowOf: Int32Array.from(rowOf),
  };
}

export function totalOf(plan: SeatPlan, seats: number[]): number {
  let t = 0;
  for (const i of seats) t += plan.prices[i];
  return t;
}

// ------------------------------------------------------------------ errors and ids

export class BenchError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly seats?: string[],
  ) {
    super(message);
  }
}

export const notFound = (what: 'SHOW' | 'HOLD' | 'BOOKING') => new BenchError(`${what}_NOT_FOUND`, 404, `${what.toLowerCase()} not found`);
export const unavailable = (seats: string[]) => new BenchError('SEAT_UNAVAILABLE', 409, 'seats not available', seats);
export const wrongToken = () => new BenchError('FORBIDDEN', 403, 'wrong hold token');
export const holdGone = () => new BenchError('HOLD_EXPIRED', 410, 'hold expired or already ended');
export const badInput = (msg: string) => new BenchError('INVALID_ARGUMENT', 400, msg);

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// ------------------------------------------------------------------ the store port

export interface HoldResult {
  holdId: string;
  holdToken: string;
  seats: string[];
  expiresAt: string;
  total: number;
  currency: string;
}

export interface BookingResult {
  bookingId: string;
  holdId: string;
  showId: string;
  seats: string[];
  total: number;
  currency: string;
  status: 'confirmed' | 'cancelled';
}

export interface CheckResult {
  bookings: number;
  bookedSeats: number;
  /** Seats named by more than one live booking: oversold. */
  seatsInSeveralBookings: number;
  /** Seats marked booked that no booking names. */
  bookedWithoutBooking: number;
  /** Seats a booking names that are not marked booked by it. */
  bookingSeatsNotBooked: number;
}

/**
 * A baseline's storage design. Calls may run concurrently (one per HTTP request); each
 * store brings its own concurrency control, which is the thing being compared.
 */
export interface BaselineStore {
  readonly name: string;
  createShow(input: ShowInput): Promise<void>;
  /** One status letter per seat in label order: a available, h held, b booked. */
  seatStatuses(showId: string): Promise<{ labels: string[]; statuses: string; status: string }>;
  hold(showId: string, req: { seats?: string[]; count?: number }, ttlMs: number): Promise<HoldResult>;
  confirm(showId: string, holdId: string, token: string): Promise<BookingResult>;
  release(showId: string, holdId: string, token: string): Promise<void>;
  getBooking(showId: string, bookingId: string): Promise<BookingResult>;
  cancelShow(showId: string): Promise<{ cancelledBookings: number }>;
  check(showId: string): Promise<CheckResult>;
  /** Removes everything this run created (database, keys). */
  close(): Promise<void>;
}

// ------------------------------------------------------------------ HTTP

const STATUS_NAMES: Record<string, string> = { a: 'available', h: 'held', b: 'booked', x: 'blocked' };

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) reject(new BenchError('PAYLOAD_TOO_LARGE', 413, 'body too large'));
      else chunks.push(c);
    });
    req.on('end', () => {
      if (size === 0) return resolve({});
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(badInput('body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function parseHold(body: unknown): { seats?: string[]; count?: number } {
  const b = body as { seats?: unknown; count?: unknown };
  if (Array.isArray(b.seats)) {
    if (b.seats.length < 1 || b.seats.length > MAX_SEATS_PER_HOLD || !b.seats.every((s) => typeof s === 'string'))
      throw badInput(`seats: 1 to ${MAX_SEATS_PER_HOLD} seat ids`);
    if (new Set(b.seats).size !== b.seats.length) throw badInput('seats: duplicates');
    return { seats: b.seats as string[] };
  }
  if (typeof b.count === 'number' && Number.isInteger(b.count) && b.count >= 1 && b.count <= MAX_SEATS_PER_HOLD) return { count: b.count };
  throw badInput('give seats or count');
}

function holdToken(req: IncomingMessage): string {
  const t = req.headers['hold-token'];
  if (typeof t !== 'string' || t.length === 0) throw new BenchError('UNAUTHENTICATED', 401, 'Hold-Token header missing');
  return t;
}

export interface ServeOptions {
  port: number;
  adminToken: string;
  holdTtlMs?: number | undefined;
}

/** Serves `store` over HTTP on 127.0.0.1 and closes it on SIGTERM/SIGINT. */
export async function serveBaseline(store: BaselineStore, opts: ServeOptions): Promise<void> {
  const ttl = opts.holdTtlMs ?? DEFAULT_HOLD_TTL_MS;
  const admin = (req: IncomingMessage) => {
    if (req.headers.authorization !== `Bearer ${opts.adminToken}`) throw new BenchError('UNAUTHENTICATED', 401, 'admin token required');
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const m = req.method ?? 'GET';
    if (parts[0] === 'readyz' || parts[0] === 'healthz') return send(res, 200, { ok: true, store: store.name });
    if (parts[0] === 'bench' && parts[1] === 'check' && parts[2]) return send(res, 200, await store.check(parts[2]));
    if (parts[0] !== 'v1' || parts[1] !== 'shows') throw new BenchError('NOT_FOUND', 404, 'no such path');
    const showId = parts[2];
    if (!showId && m === 'POST') {
      admin(req);
      const input = (await readJson(req)) as ShowInput;
      if (typeof input?.id !== 'string' || !input.layout?.sections) throw badInput('id and layout required');
      await store.createShow(input);
      return send(res, 201, { id: input.id, title: input.title ?? input.id, version: 0, status: 'scheduled' });
    }
    if (!showId) throw new BenchError('NOT_FOUND', 404, 'no such path');
    if (parts.length === 3) {
      if (m === 'GET') {
        const { labels, statuses, status } = await store.seatStatuses(showId);
        if (url.searchParams.get('format') === 'compact') return send(res, 200, { showId, version: 0, status, labels, seats: statuses });
        const seats = labels.map((id, i) => ({ id, status: STATUS_NAMES[statuses[i]] ?? 'available' }));
        return send(res, 200, { id: showId, version: 0, status, seats });
      }
      if (m === 'DELETE') {
        admin(req);
        return send(res, 200, await store.cancelShow(showId));
      }
    }
    if (parts[3] === 'holds' && parts.length === 4 && m === 'POST') {
      const h = await store.hold(showId, parseHold(await readJson(req)), ttl);
      return send(res, 201, { ...h, price: { currency: h.currency, total: h.total } });
    }
    if (parts[3] === 'holds' && parts[4] && parts.length === 6 && parts[5] === 'confirm' && m === 'POST') {
      const token = holdToken(req);
      await readJson(req);
      return send(res, 201, await store.confirm(showId, parts[4], token));
    }
    if (parts[3] === 'holds' && parts[4] && parts.length === 5 && m === 'DELETE') {
      await store.release(showId, parts[4], holdToken(req));
      return send(res, 204);
    }
    if (parts[3] === 'bookings' && parts[4] && parts.length === 5 && m === 'GET')
      return send(res, 200, await store.getBooking(showId, parts[4]));
    throw new BenchError('NOT_FOUND', 404, 'no such path');
  };

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof BenchError) {
        send(res, err.status, { error: { code: err.code, message: err.message, ...(err.seats ? { seats: err.seats } : {}) } });
      } else {
        process.stderr.write(`${store.name}: ${(err as Error)?.stack ?? String(err)}\n`);
        send(res, 503, { error: { code: 'UNAVAILABLE', message: String((err as Error)?.message ?? err) } });
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(opts.port, '127.0.0.1', resolve));

  let closing = false;
  const stop = async () => {
    if (closing) return;
    closing = true;
    server.close();
    server.closeAllConnections();
    try {
      await store.close();
    } catch (err) {
      process.stderr.write(`${store.name}: cleanup failed: ${String(err)}\n`);
    }
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** PORT and ADMIN_TOKEN from the environment the runner sets. */
export function baselineEnv(): ServeOptions {
  const port = Number(process.env.PORT ?? 0);
  const adminToken = process.env.ADMIN_TOKEN ?? 'bench-admin-token';
  const holdTtlMs = process.env.HOLD_TTL_MS ? Number(process.env.HOLD_TTL_MS) : undefined;
  return { port, adminToken, holdTtlMs };
}

/** The bookings table both Postgres-backed baselines write, the same in each so their checks compare. */
export const BOOKINGS_DDL = `CREATE TABLE bookings (
  id text PRIMARY KEY,
  show_id text NOT NULL,
  hold_id text NOT NULL UNIQUE,
  seats text[] NOT NULL,
  total int NOT NULL,
  currency text NOT NULL,
  status text NOT NULL DEFAULT 'confirmed',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bookings_by_show ON bookings (show_id);
`;

/** A booking from that table, as every baseline answers `GET …/bookings/{id}`. */
export async function readBooking(pool: pg.Pool, showId: string, bookingId: string): Promise<BookingResult> {
  const r = await pool.query<{ hold_id: string; seats: string[]; total: number; currency: string; status: 'confirmed' | 'cancelled' }>(
    'SELECT hold_id, seats, total, currency, status FROM bookings WHERE id = $1 AND show_id = $2',
    [bookingId, showId],
  );
  const b = r.rows[0];
  if (!b) throw notFound('BOOKING');
  return { bookingId, holdId: b.hold_id, showId, seats: b.seats, total: b.total, currency: b.currency, status: b.status };
}
