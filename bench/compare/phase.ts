import { fork, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Histogram } from '../../testkit/histogram.ts';
import { cpuDelta, snapshotCpu } from '../lib/proc-cpu.ts';
import { Api, mapLimit } from './api.ts';
import type { BackendHandle } from './backends.ts';
import type { FromGenerator, GeneratorResult, OpCounts, SeatNews, ToGenerator } from './protocol.ts';
import { verify, type Verdict } from './verify.ts';
import { RESET_BOOKED_SHARE, type PhaseSpec } from './workload.ts';

/**
 * One backend × one phase: create the shows, start the generator processes, relay seat
 * news between them, reset a show (recreate it under a new id) once it is 90 % booked,
 * measure server CPU around the load window, then check correctness and cancel every
 * show this phase created.
 */

const GENERATOR = join(dirname(fileURLToPath(import.meta.url)), 'generator.ts');
const SETUP_CONCURRENCY = 16;
/** A generator above this share of one core may be what limits the numbers. */
export const GENERATOR_SATURATED = 0.9;

export interface PhaseOptions {
  spec: PhaseSpec;
  runTag: string;
  connections: number;
  generators: number;
  durationSec: number;
  warmupSec: number;
  timeoutSec: number;
  verifySample: number;
}

export interface LatencySummary {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

export interface PhaseRecord {
  backend: string;
  phase: string;
  durationSec: number;
  holdsPerSec: number;
  confirmsPerSec: number;
  releasesPerSec: number;
  conflictsPerSec: number;
  /** Hold latency (the headline); per-operation figures in `latencyMs`. */
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  latencyMs: { hold: LatencySummary; confirm: LatencySummary; release: LatencySummary };
  errors: number;
  errorsByKind: Record<string, number>;
  errorSamples: string[];
  oversold: number;
  lost: number;
  unattributedBookedSeats: number;
  bookingsConfirmed: number;
  bookingsFetched: number;
  storeCheck: Verdict['storeCheck'];
  problems: string[];
  cpuSecPer1kOps: number | null;
  cpu: { totalSec: number; bySec: Record<string, number>; ops: number; includes: string[] };
  /** process.cpuUsage() of each generator process over the measured window: share of a core, seconds, and ms per 1,000 of its requests. */
  generator: {
    processes: number;
    connections: number;
    cpuShareOfCore: number[];
    cpuSec: number[];
    cpuMsPer1kOps: number | null;
    saturated: boolean;
  };
  counts: OpCounts;
  shows: number;
  resets: number;
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;

function summary(h: Histogram): LatencySummary {
  return {
    p50: round(h.quantileMs(0.5)),
    p99: round(h.quantileMs(0.99)),
    p999: round(h.quantileMs(0.999)),
    max: round(h.maxUs / 1000),
    count: h.total,
  };
}

interface Slot {
  showId: string;
  generation: number;
  resetting: boolean;
}

export async function runPhase(backend: BackendHandle, opts: PhaseOptions): Promise<PhaseRecord> {
  const shows: string[] = [];
  try {
    return await measurePhase(backend, opts, shows);
  } catch (err) {
    // A failed phase still cancels what it created (matters against --url, where no database is dropped).
    const api = new Api(backend.url, backend.adminToken);
    await mapLimit(shows, SETUP_CONCURRENCY, (id) => api.cancelShow(id).catch(() => undefined));
    await backend.forgetShows(shows).catch(() => undefined);
    throw err;
  }
}

async function measurePhase(backend: BackendHandle, opts: PhaseOptions, allShows: string[]): Promise<PhaseRecord> {
  const { spec } = opts;
  const api = new Api(backend.url, backend.adminToken);
  const short = spec.name === 'hot-show' ? 'hot' : spec.name === 'spread' ? 'spr' : 'best';
  const idFor = (slot: number, gen: number) => `${opts.runTag}-${short}-${slot}-${gen}`;
  const slots: Slot[] = Array.from({ length: spec.slots }, (_, i) => ({ showId: idFor(i, 0), generation: 0, resetting: false }));
  allShows.push(...slots.map((s) => s.showId));
  await mapLimit(slots, SETUP_CONCURRENCY, (s) => api.createShow(s.showId, spec.seatsPerShow));

  const booked = new Map<string, number>();
  const conflictStreak = new Map<string, number>();
  const streakLimit = Math.max(50, 2 * opts.connections);
  let resets = 0;
  const resetErrors: string[] = [];

  const gens: ChildProcess[] = [];
  const results: Array<GeneratorResult | null> = [];
  const perGen = Array.from(
    { length: opts.generators },
    (_, g) => Math.floor(opts.connections / opts.generators) + (g < opts.connections % opts.generators ? 1 : 0),
  ).filter((c) => c > 0);

  const broadcast = (m: ToGenerator, except?: number) => {
    for (const [i, g] of gens.entries()) if (i !== except && g.connected) g.send(m);
  };

  const reset = async (slotIndex: number) => {
    const slot = slots[slotIndex];
    slot.resetting = true;
    const nextId = idFor(slotIndex, slot.generation + 1);
    try {
      await api.createShow(nextId, spec.seatsPerShow);
      slot.generation++;
      slot.showId = nextId;
      allShows.push(nextId);
      resets++;
      broadcast({ type: 'switch', slot: slotIndex, showId: nextId });
    } catch (err) {
      if (resetErrors.length < 3) resetErrors.push(`reset: ${String((err as Error).message)}`);
    } finally {
      slot.resetting = false;
    }
  };

  const onTick = (from: number, m: Extract<FromGenerator, { type: 'tick' }>) => {
    if (m.news.length > 0 && gens.length > 1) broadcast({ type: 'news', news: m.news as SeatNews[] }, from);
    for (const t of m.instances) {
      const b = (booked.get(t.showId) ?? 0) + t.bookedSeats;
      booked.set(t.showId, b);
      const streak = t.holdsOk > 0 ? 0 : (conflictStreak.get(t.showId) ?? 0) + t.conflicts;
      conflictStreak.set(t.showId, streak);
      const slot = slots[t.slot];
      if (!slot || slot.showId !== t.showId || slot.resetting) continue;
      if (b >= RESET_BOOKED_SHARE * spec.seatsPerShow || streak >= streakLimit) void reset(t.slot);
    }
  };

  const ready: Promise<void>[] = [];
  const done: Promise<void>[] = [];
  perGen.forEach((connections, g) => {
    const child = fork(GENERATOR, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    gens.push(child);
    results.push(null);
    ready.push(
      new Promise((res, rej) => {
        child.on('message', (m: FromGenerator) => {
          if (m.type === 'ready') res();
          if (m.type === 'failed') rej(new Error(`generator ${g}: ${m.error}`));
        });
        child.once('exit', (code) => rej(new Error(`generator ${g} exited (${code}) before it was ready`)));
      }),
    );
    done.push(
      new Promise((res, rej) => {
        child.on('message', (m: FromGenerator) => {
          if (m.type === 'tick') onTick(g, m);
          if (m.type === 'done') {
            results[g] = m.result;
            res();
          }
          if (m.type === 'failed') rej(new Error(`generator ${g}: ${m.error}`));
        });
        child.once('exit', () => (results[g] ? res() : rej(new Error(`generator ${g} exited without a result`))));
      }),
    );
    child.send({
      type: 'init',
      generator: g,
      url: backend.url,
      spec,
      slots: slots.map((s, i) => ({ slot: i, showId: s.showId })),
      connections,
      durationSec: opts.durationSec,
      warmupSec: opts.warmupSec,
      timeoutSec: opts.timeoutSec,
    } satisfies ToGenerator);
  });

  let cpuBefore;
  let cpuAfter;
  try {
    await Promise.all(ready);
    broadcast({ type: 'go' });
    // The measured window starts when the generators' warm-up ends.
    await new Promise((r) => setTimeout(r, opts.warmupSec * 1000));
    cpuBefore = snapshotCpu(await backend.cpuGroups());
    const watchdog = new Promise<never>((_, rej) =>
      setTimeout(() => rej(new Error('generators did not finish in time')), (opts.durationSec + opts.timeoutSec + 60) * 1000).unref(),
    );
    await Promise.race([Promise.all(done), watchdog]);
    cpuAfter = snapshotCpu(await backend.cpuGroups());
  } finally {
    for (const g of gens) if (g.connected) g.disconnect();
    for (const g of gens) if (g.exitCode === null) g.kill();
  }

  const finished = results.filter((r): r is GeneratorResult => r !== null);
  const counts: OpCounts = { holdOk: 0, holdConflict: 0, holdError: 0, confirmOk: 0, confirmError: 0, releaseOk: 0, releaseError: 0 };
  const errorsByKind: Record<string, number> = {};
  const errorSamples: string[] = [...resetErrors];
  const lat = { hold: new Histogram(), confirm: new Histogram(), release: new Histogram() };
  const bookings: GeneratorResult['bookings'] = [];
  let wallMs = 0;
  let netErrors = 0;
  for (const r of finished) {
    for (const k of Object.keys(counts) as Array<keyof OpCounts>) counts[k] += r.counts[k];
    for (const [k, n] of Object.entries(r.errorsByKind)) errorsByKind[k] = (errorsByKind[k] ?? 0) + n;
    errorSamples.push(...r.errorSamples.slice(0, 3));
    lat.hold.merge(r.latency.hold);
    lat.confirm.merge(r.latency.confirm);
    lat.release.merge(r.latency.release);
    for (const b of r.bookings) bookings.push(b);
    wallMs = Math.max(wallMs, r.wallMs);
    netErrors += r.autocannon.errors + r.autocannon.timeouts;
  }
  if (netErrors > 0) errorsByKind['connection errors and timeouts'] = netErrors;
  const seconds = wallMs / 1000 || opts.durationSec;
  const ops =
    counts.holdOk +
    counts.holdConflict +
    counts.holdError +
    counts.confirmOk +
    counts.confirmError +
    counts.releaseOk +
    counts.releaseError;
  const bySec = cpuBefore && cpuAfter ? cpuDelta(cpuBefore, cpuAfter) : {};
  const cpuTotal = Object.values(bySec).reduce((a, b) => a + b, 0);
  const genShares = finished.map((r) => round(r.cpuMs / r.wallMs, 3));

  const verdict = await verify(api, allShows, bookings, { sampleBookings: opts.verifySample, concurrency: SETUP_CONCURRENCY });
  await mapLimit(allShows, SETUP_CONCURRENCY, (id) => api.cancelShow(id).catch(() => undefined));
  await backend.forgetShows(allShows).catch(() => undefined);

  const hold = summary(lat.hold);
  return {
    backend: backend.name,
    phase: spec.name,
    durationSec: round(seconds),
    holdsPerSec: round(counts.holdOk / seconds, 1),
    confirmsPerSec: round(counts.confirmOk / seconds, 1),
    releasesPerSec: round(counts.releaseOk / seconds, 1),
    conflictsPerSec: round(counts.holdConflict / seconds, 1),
    p50Ms: hold.p50,
    p99Ms: hold.p99,
    p999Ms: hold.p999,
    latencyMs: { hold, confirm: summary(lat.confirm), release: summary(lat.release) },
    errors: counts.holdError + counts.confirmError + counts.releaseError + netErrors,
    errorsByKind,
    errorSamples: errorSamples.slice(0, 6),
    oversold: verdict.oversold,
    lost: verdict.lost,
    unattributedBookedSeats: verdict.unattributedBookedSeats,
    bookingsConfirmed: verdict.bookingsConfirmed,
    bookingsFetched: verdict.bookingsFetched,
    storeCheck: verdict.storeCheck,
    problems: verdict.problems,
    cpuSecPer1kOps: cpuBefore && ops > 0 && backend.name !== 'external' ? round(cpuTotal / (ops / 1000), 3) : null,
    cpu: {
      totalSec: round(cpuTotal, 2),
      bySec: Object.fromEntries(Object.entries(bySec).map(([k, s]) => [k, round(s, 2)])),
      ops,
      includes: backend.cpuIncludes,
    },
    generator: {
      processes: finished.length,
      connections: opts.connections,
      cpuShareOfCore: genShares,
      cpuSec: finished.map((r) => round(r.cpuMs / 1000, 3)),
      cpuMsPer1kOps: ops > 0 ? round(finished.reduce((a, r) => a + r.cpuMs, 0) / (ops / 1000), 2) : null,
      saturated: genShares.some((s) => s > GENERATOR_SATURATED),
    },
    counts,
    shows: allShows.length,
    resets,
  };
}
