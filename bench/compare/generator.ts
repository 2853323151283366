import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';
import { Histogram } from '../../testkit/histogram.ts';
import type { FromGenerator, GeneratorResult, InstanceTick, OpCounts, SeatNews, ToGenerator } from './protocol.ts';
import { SeatView } from './seat-view.ts';
import { seatLabels, type PhaseSpec } from './workload.ts';

/**
 * One load generator process: autocannon connections, each looping through a two-step
 * request sequence — hold, then confirm (70 %) or release (30 %) of that hold. The hold's
 * `onResponse` stores its id and token in the connection's context; the second step's
 * `setupRequest` turns them into the confirm or release, or returns null after a failed
 * hold, which makes autocannon start the sequence over. Seats are picked from a local
 * view of free-looking seats, kept in sync with the other generators through the runner.
 *
 * Started by the runner with fork(); talks over IPC only (see protocol.ts).
 */

const TICK_MS = 100;
const MAX_ERROR_SAMPLES = 5;

interface Instance {
  slot: number;
  showId: string;
  view: SeatView;
  tick: InstanceTick;
  news: SeatNews;
}

interface Ctx {
  showId?: string;
  picked?: number[];
  holdId?: string | undefined;
  token?: string;
  seats?: number[];
  next?: 'confirm' | 'release' | null;
  t0?: number;
}

const send = (m: FromGenerator) => process.send?.(m);

let spec: PhaseSpec;
let labels: string[] = [];
let indexOf = new Map<string, number>();
const instances = new Map<string, Instance>();
const current: Instance[] = [];
const counts: OpCounts = { holdOk: 0, holdConflict: 0, holdError: 0, confirmOk: 0, confirmError: 0, releaseOk: 0, releaseError: 0 };
const errorsByKind: Record<string, number> = {};
const errorSamples: string[] = [];
const latency = { hold: new Histogram(), confirm: new Histogram(), release: new Histogram() };
const bookings: GeneratorResult['bookings'] = [];

function instance(slot: number, showId: string): Instance {
  const inst: Instance = {
    slot,
    showId,
    view: new SeatView(spec.seatsPerShow),
    tick: { showId, slot, bookedSeats: 0, holdsOk: 0, conflicts: 0 },
    news: { slot, showId, taken: [], freed: [] },
  };
  instances.set(showId, inst);
  current[slot] = inst;
  return inst;
}

function error(kind: string, status: number, body: string): void {
  const key = `${kind} ${status}`;
  errorsByKind[key] = (errorsByKind[key] ?? 0) + 1;
  if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(`${key}: ${body.slice(0, 200)}`);
}

function parse<T>(body: string): T | null {
  try {
    return JSON.parse(body) as T;
  } catch {
    return null;
  }
}

/** A slot whose show still looks like it has room (a few random tries, then any). */
function chooseInstance(): Instance {
  if (current.length === 1) return current[0];
  let best = current[Math.floor(Math.random() * current.length)];
  for (let i = 0; i < 4 && best.view.freeCount < spec.seatsPerHold; i++) best = current[Math.floor(Math.random() * current.length)];
  return best;
}

const holdRequest = {
  method: 'POST',
  path: '/',
  headers: { 'content-type': 'application/json' },
  setupRequest(req: autocannon.RequestParams, c: autocannon.Context): autocannon.RequestParams {
    const ctx = c as Ctx;
    const inst = chooseInstance();
    ctx.showId = inst.showId;
    ctx.next = null;
    ctx.holdId = undefined;
    let body: string;
    if (spec.mode === 'count') {
      ctx.picked = [];
      body = `{"count":${spec.seatsPerHold}}`;
    } else {
      const picked = inst.view.pick(spec.seatsPerHold);
      // Nothing looks free: ask anyway (a conflict) until the runner resets the show.
      while (picked.length < spec.seatsPerHold) {
        const s = Math.floor(Math.random() * spec.seatsPerShow);
        if (!picked.includes(s)) picked.push(s);
      }
      ctx.picked = picked;
      body = JSON.stringify({ seats: picked.map((i) => labels[i]) });
    }
    ctx.t0 = performance.now();
    return { ...req, path: `/v1/shows/${inst.showId}/holds`, body };
  },
  onResponse(status: number, body: string, c: autocannon.Context) {
    const ctx = c as Ctx;
    latency.hold.recordMs(performance.now() - (ctx.t0 ?? 0));
    const inst = instances.get(ctx.showId ?? '');
    const picked = ctx.picked ?? [];
    if (status === 201) {
      const h = parse<{ holdId: string; holdToken: string; seats: string[] }>(body);
      if (!h) return error('hold', status, body);
      counts.holdOk++;
      ctx.holdId = h.holdId;
      ctx.token = h.holdToken;
      ctx.seats = h.seats.map((l) => indexOf.get(l) ?? -1);
      ctx.next = Math.random() < spec.confirmRatio ? 'confirm' : 'release';
      if (inst) {
        inst.tick.holdsOk++;
        for (const s of ctx.seats) {
          inst.view.take(s);
          inst.news.taken.push(s);
        }
      }
      return;
    }
    if (status === 409) {
      counts.holdConflict++;
      const taken = new Set((parse<{ error?: { seats?: string[] } }>(body)?.error?.seats ?? []).map((l) => indexOf.get(l) ?? -1));
      if (inst) {
        inst.tick.conflicts++;
        for (const s of picked) {
          if (taken.has(s)) inst.news.taken.push(s);
          else inst.view.give(s);
        }
      }
      return;
    }
    counts.holdError++;
    error('hold', status, body);
    if (inst) for (const s of picked) inst.view.give(s);
  },
};

const finishRequest = {
  method: 'POST',
  path: '/',
  setupRequest(req: autocannon.RequestParams, c: autocannon.Context): autocannon.RequestParams | null {
    const ctx = c as Ctx;
    if (!ctx.next || !ctx.holdId || !ctx.token) return null;
    const path = `/v1/shows/${ctx.showId}/holds/${ctx.holdId}`;
    ctx.t0 = performance.now();
    if (ctx.next === 'confirm')
      return {
        ...req,
        method: 'POST',
        path: `${path}/confirm`,
        headers: { 'content-type': 'application/json', 'hold-token': ctx.token },
        body: '{}',
      };
    return { ...req, method: 'DELETE', path, headers: { 'hold-token': ctx.token }, body: '' };
  },
  onResponse(status: number, body: string, c: autocannon.Context) {
    const ctx = c as Ctx;
    const ms = performance.now() - (ctx.t0 ?? 0);
    const inst = instances.get(ctx.showId ?? '');
    const seats = ctx.seats ?? [];
    if (ctx.next === 'confirm') {
      latency.confirm.recordMs(ms);
      if (status === 201 || status === 200) {
        const b = parse<{ bookingId: string; seats: string[] }>(body);
        if (!b) return error('confirm', status, body);
        counts.confirmOk++;
        bookings.push([ctx.showId ?? '', b.bookingId, b.seats]);
        if (inst) inst.tick.bookedSeats += b.seats.length;
      } else {
        counts.confirmError++;
        error('confirm', status, body);
      }
    } else {
      latency.release.recordMs(ms);
      if (status === 204 || status === 200) {
        counts.releaseOk++;
        if (inst) {
          for (const s of seats) {
            inst.view.give(s);
            inst.news.freed.push(s);
          }
        }
      } else {
        counts.releaseError++;
        error('release', status, body);
      }
    }
    ctx.next = null;
  },
};

function flushTick(): void {
  const ticks: InstanceTick[] = [];
  const news: SeatNews[] = [];
  for (const inst of instances.values()) {
    const t = inst.tick;
    if (t.bookedSeats || t.holdsOk || t.conflicts) ticks.push({ ...t });
    t.bookedSeats = t.holdsOk = t.conflicts = 0;
    if (inst.news.taken.length || inst.news.freed.length) news.push(inst.news);
    inst.news = { slot: inst.slot, showId: inst.showId, taken: [], freed: [] };
  }
  if (ticks.length || news.length) send({ type: 'tick', instances: ticks, news });
}

function applyNews(news: SeatNews[]): void {
  for (const n of news) {
    const inst = instances.get(n.showId);
    if (!inst) continue;
    for (const s of n.taken) inst.view.take(s);
    for (const s of n.freed) inst.view.give(s);
  }
}

function load(init: Extract<ToGenerator, { type: 'init' }>, durationSec: number) {
  return autocannon({
    url: init.url,
    connections: init.connections,
    duration: durationSec,
    pipelining: 1,
    timeout: init.timeoutSec,
    requests: [holdRequest, finishRequest],
    initialContext: {},
  });
}

/** Forgets what the warm-up measured; its bookings stay, since the check covers them too. */
function resetMeasurements(): void {
  for (const k of Object.keys(counts) as Array<keyof OpCounts>) counts[k] = 0;
  for (const k of Object.keys(errorsByKind)) delete errorsByKind[k];
  errorSamples.length = 0;
  latency.hold = new Histogram();
  latency.confirm = new Histogram();
  latency.release = new Histogram();
}

async function run(init: Extract<ToGenerator, { type: 'init' }>): Promise<void> {
  const ticker = setInterval(flushTick, TICK_MS);
  if (init.warmupSec > 0) {
    await load(init, init.warmupSec);
    resetMeasurements();
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await load(init, init.durationSec);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(ticker);
  flushTick();
  send({
    type: 'done',
    result: {
      counts,
      errorsByKind,
      errorSamples,
      latency: { hold: latency.hold.toJSON(), confirm: latency.confirm.toJSON(), release: latency.release.toJSON() },
      bookings,
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs,
      autocannon: { requests: result.requests.total, errors: result.errors, timeouts: result.timeouts, resets: result.resets },
    },
  });
}

let init: Extract<ToGenerator, { type: 'init' }> | null = null;
process.on('message', (m: ToGenerator) => {
  switch (m.type) {
    case 'init':
      init = m;
      spec = m.spec;
      labels = seatLabels(spec.seatsPerShow);
      indexOf = new Map(labels.map((l, i) => [l, i]));
      for (const s of m.slots) instance(s.slot, s.showId);
      send({ type: 'ready' });
      return;
    case 'go':
      if (init) run(init).catch((err: unknown) => send({ type: 'failed', error: String((err as Error)?.stack ?? err) }));
      return;
    case 'switch':
      instance(m.slot, m.showId);
      return;
    case 'news':
      applyNews(m.news);
      return;
    default: {
      const never: never = m;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
});
process.on('disconnect', () => process.exit(0));
