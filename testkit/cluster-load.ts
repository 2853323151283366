/**
 * Client load for the failover, pause and join scenarios: one loop per show holding one
 * seat, then confirming or releasing it, through a gateway's HTTP API, with an
 * Idempotency-Key on every call and client retries on UNAVAILABLE-type answers (as real
 * clients do). Records per show the completion time of every successful command, every
 * confirmed booking, and every status other than 2xx/409.
 *
 * `verifyShows` then checks the promises: the log replayed equals what the gateway serves;
 * no seat is in two holds or two bookings; every booked seat belongs to exactly one
 * booking in Postgres; every 2xx confirm is in the bookings table.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { evolve } from '../src/actors/evolve.ts';
import type { ShowState } from '../src/actors/show-state.ts';
import { deserializeState, type SerializedState } from '../src/actors/state-codec.ts';
import { connectNats } from '../src/persistence/durable-storage.ts';
import { JetStreamEventLog } from '../src/persistence/jetstream-event-log.ts';
import { forEachSeatLabel } from '../src/actors/seat-map.ts';
import { percentile } from './percentile.ts';

export interface LoadTarget {
  /** Gateway base URL. */
  url: string;
}

export interface LoadStats {
  /** Per show: completion times (ms since epoch) of successful commands, in order. */
  successes: Map<string, number[]>;
  /** Confirms answered 2xx: bookingId → seats. */
  confirmed: Map<string, { showId: string; seats: string[] }>;
  /** Answers by HTTP status (after client retries). */
  statuses: Map<number, number>;
  /** Client-level retries (5xx answers or network errors resent with the same key). */
  retries: number;
  commands: number;
}

const CLIENT_RETRY_LIMIT = 20;
const CLIENT_RETRY_PAUSE_MS = 50;

/** Seat labels of a rows×perRow show (rows A, B, …). */
export function seatLabels(rows: number, perRow: number): string[] {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) for (let n = 1; n <= perRow; n++) out.push(`${String.fromCharCode(65 + r)}-${n}`);
  return out;
}

// Raw fetch, not the typed client: the fixed 50 ms retry cadence and the per-status counts are what failover times are read from.
async function call(url: string, method: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  const r = await fetch(url, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * Runs the load until `stop()`; `done` resolves with the stats once every loop ended.
 * `concurrencyPerShow` loops per show pick random seats (a 409 is a normal answer).
 */
export function runLoad(
  target: LoadTarget,
  showIds: string[],
  seats: string[],
  concurrencyPerShow = 1,
): { stats: LoadStats; stop(): void; done: Promise<LoadStats> } {
  const stats: LoadStats = { successes: new Map(), confirmed: new Map(), statuses: new Map(), retries: 0, commands: 0 };
  let stopped = false;
  const send = async (method: string, path: string, body: unknown, headers: Record<string, string> = {}) => {
    const key = randomUUID();
    for (let attempt = 0; ; attempt++) {
      let answer: { status: number; body: any };
      try {
        answer = await call(`${target.url}${path}`, method, body, { ...headers, 'idempotency-key': key });
      } catch {
        answer = { status: 599, body: undefined };
      }
      const retryable = answer.status >= 500 || answer.status === 429;
      if (retryable && attempt < CLIENT_RETRY_LIMIT) {
        stats.retries++;
        await new Promise((r) => setTimeout(r, CLIENT_RETRY_PAUSE_MS));
        continue;
      }
      stats.commands++;
      stats.statuses.set(answer.status, (stats.statuses.get(answer.status) ?? 0) + 1);
      return answer;
    }
  };
  const ok = (showId: string) => {
    let list = stats.successes.get(showId);
    if (!list) stats.successes.set(showId, (list = []));
    list.push(Date.now());
  };
  const loop = async (showId: string) => {
    let i = 0;
    while (!stopped) {
      const seat = seats[Math.floor(Math.random() * seats.length)];
      const h = await send('POST', `/v1/shows/${encodeURIComponent(showId)}/holds`, { seats: [seat] });
      if (h.status !== 201) continue;
      ok(showId);
      const path = `/v1/shows/${encodeURIComponent(showId)}/holds/${h.body.holdId}`;
      const headers = { 'hold-token': h.body.holdToken };
      if (i++ % 2 === 0) {
        const c = await send('POST', `${path}/confirm`, {}, headers);
        if (c.status === 201) {
          ok(showId);
          stats.confirmed.set(c.body.bookingId, { showId, seats: c.body.seats });
        }
      } else {
        const r = await send('DELETE', path, undefined, headers);
        if (r.status === 204) ok(showId);
      }
    }
  };
  const loops = showIds.flatMap((id) => Array.from({ length: concurrencyPerShow }, () => loop(id)));
  const done = Promise.all(loops).then(() => stats);
  return { stats, stop: () => void (stopped = true), done };
}

export interface FailoverTimes {
  shows: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Shows with no success after the kill (should be 0). */
  neverRecovered: number;
}

/** Per show, the time from `killAt` to its first successful command completed after it. */
export function failoverTimes(stats: LoadStats, showIds: string[], killAt: number): FailoverTimes {
  const times: number[] = [];
  let never = 0;
  for (const id of showIds) {
    const first = (stats.successes.get(id) ?? []).find((t) => t >= killAt);
    if (first === undefined) never++;
    else times.push(first - killAt);
  }
  return {
    shows: showIds.length,
    p50Ms: percentile(times, 50),
    p99Ms: percentile(times, 99),
    maxMs: times.length ? Math.max(...times) : NaN,
    neverRecovered: never,
  };
}

export interface ClusterStorageRef {
  natsUrl: string;
  databaseUrl: string;
  stream: string;
  eventSubjectPrefix: string;
}

/** Which promise a problem breaks: an acknowledged booking lost, a seat sold or held twice, or state that does not add up. */
export type ProblemKind = 'lost' | 'oversold' | 'mismatched';

export interface Problem {
  kind: ProblemKind;
  text: string;
}

/** Checks the promises on every show; returns the problems found (empty: all hold), as text. */
export async function verifyShows(
  gatewayUrl: string,
  ref: ClusterStorageRef,
  showIds: string[],
  confirmed: LoadStats['confirmed'],
): Promise<string[]> {
  return (await findProblems(gatewayUrl, ref, showIds, confirmed)).map((p) => p.text);
}

/**
 * Checks the promises on every show; returns the problems found (empty: all hold), each with
 * the promise it breaks. `gatewayUrl` serves the seat maps; the log and Postgres are read directly.
 */
export async function findProblems(
  gatewayUrl: string,
  ref: ClusterStorageRef,
  showIds: string[],
  confirmed: LoadStats['confirmed'],
): Promise<Problem[]> {
  const problems: Problem[] = [];
  const report = (kind: ProblemKind, text: string) => problems.push({ kind, text });
  const logger = pino({ level: 'silent' });
  const nc = await connectNats(ref.natsUrl, 'failover-verify', logger);
  const log = await JetStreamEventLog.open(nc, { logger, stream: ref.stream, subjectPrefix: ref.eventSubjectPrefix });
  const db = new pg.Client({ connectionString: ref.databaseUrl });
  await db.connect();
  try {
    for (const showId of showIds) {
      // From the newest snapshot: the log below a show's earlier snapshot is purged.
      const snap = await db.query<{ log_seq: string; state: SerializedState }>(
        'SELECT log_seq, state FROM show_snapshots WHERE show_id = $1',
        [showId],
      );
      const row = snap.rows[0];
      let state: ShowState | null = row ? deserializeState(row.state) : null;
      for await (const entry of log.read(showId, row ? Number(row.log_seq) : 0)) for (const e of entry.events) state = evolve(state, e);
      if (!state) {
        report('mismatched', `${showId}: no log`);
        continue;
      }
      const replayed = state;
      // Held seats: each in exactly one hold.
      const heldBy = new Map<number, string>();
      for (const h of replayed.holds.values())
        for (const s of h.seats) {
          if (heldBy.has(s)) report('oversold', `${showId}: seat ${s} in two holds`);
          heldBy.set(s, h.holdId);
        }
      // What the gateway serves equals the replayed log.
      const shown = await call(`${gatewayUrl}/v1/shows/${encodeURIComponent(showId)}`, 'GET', undefined, {});
      if (shown.status !== 200) {
        report('mismatched', `${showId}: GET answered ${shown.status}`);
        continue;
      }
      const STATUS = ['available', 'held', 'booked', 'blocked'];
      const served = new Map<string, string>((shown.body.seats as Array<{ id: string; status: string }>).map((s) => [s.id, s.status]));
      if (shown.body.version !== replayed.version)
        report('mismatched', `${showId}: gateway version ${shown.body.version}, log ${replayed.version}`);
      else
        forEachSeatLabel(replayed.seatMap, 0, replayed.seatMap.capacity, (label, i) => {
          if (served.get(label) !== STATUS[replayed.seatStatus[i]])
            report('mismatched', `${showId}: ${label} served ${served.get(label)}, log ${STATUS[replayed.seatStatus[i]]}`);
        });
      // Bookings: every booked seat in exactly one confirmed booking row.
      const rows = await db.query<{ booking_id: string; seats: string[]; status: string }>(
        'SELECT booking_id, seats, status FROM bookings WHERE show_id = $1',
        [showId],
      );
      const bookedBy = new Map<string, string>();
      for (const r of rows.rows) {
        if (r.status !== 'confirmed') continue;
        for (const s of r.seats) {
          if (bookedBy.has(s)) report('oversold', `${showId}: seat ${s} in bookings ${bookedBy.get(s)} and ${r.booking_id}`);
          bookedBy.set(s, r.booking_id);
        }
      }
      for (const [label, status] of served) {
        if (status === 'booked' && !bookedBy.has(label)) report('mismatched', `${showId}: ${label} booked without a booking row`);
        if (status !== 'booked' && bookedBy.has(label))
          report('mismatched', `${showId}: ${label} has booking ${bookedBy.get(label)} but is ${status}`);
      }
      if (rows.rows.length !== replayed.bookings.size)
        report('mismatched', `${showId}: ${rows.rows.length} booking rows, log has ${replayed.bookings.size}`);
    }
    const ids = [...confirmed.keys()];
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += 1000) {
      const r = await db.query<{ booking_id: string }>(
        `SELECT booking_id FROM bookings WHERE booking_id = ANY($1) AND status = 'confirmed'`,
        [ids.slice(i, i + 1000)],
      );
      for (const row of r.rows) found.add(row.booking_id);
    }
    for (const id of ids) if (!found.has(id)) report('lost', `confirmed booking ${id} missing from the bookings table`);
  } finally {
    await db.end();
    await log.close();
    await nc.close();
  }
  return problems;
}
