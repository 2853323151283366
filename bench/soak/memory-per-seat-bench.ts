/**
 * bench/soak/memory-per-seat — what seats cost in memory:
 *  - `state`:      the pure state of an empty 100,000-seat show (decide/evolve, no shell),
 *  - `stadium`:    one empty 100,000-seat show created through a seat node (service, actor
 *                  host, show actor) on embedded storage, as the server holds it,
 *  - `many-shows`: 1,000,000 seats as 10,000 shows of 100 seats through the same node.
 * and what a show keeps after traffic (pure state, per record instead of per seat):
 *  - `retained-bookings`: 20,000 cycles of hold → confirm → cancel booking on one show,
 *  - `ended-holds`: 50 shows × 1,024 cycles of hold → release (a show remembers that many
 *    ended holds).
 *  - `log-records`: what the embedded file log keeps in memory per appended record
 *    (100 shows × 1,000 appends of a one-event batch, 64 in flight).
 * Each case runs in a fresh process (a node started with --expose-gc), so one case's heap
 * high-water mark does not inflate the next one's RSS. Growth is measured from a collected
 * baseline taken after the modules and the storage are loaded. Prints a table and writes
 * bench/results/memory.json. The command line is run-memory-per-seat.ts (`npm run bench:memory`),
 * which is also what each case's child process runs.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { decide } from '../../src/actors/decide.ts';
import { evolve } from '../../src/actors/evolve.ts';
import { seatLabels } from '../../src/actors/seat-map.ts';
import { ENDED_HOLDS_KEPT, type ShowState } from '../../src/actors/show-state.ts';
import type { ShowCommand, ShowEvent } from '../../src/actors/types.ts';
import { FileEventLog } from '../../src/persistence/file-event-log.ts';
import { createSeatNode } from '../../src/node.ts';
import { openEmbeddedStorage } from '../../src/persistence/index.ts';
import { resultPath, writeJson } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';
import { benchShowDef, benchShowInput } from '../../testkit/shows.ts';

export const CASES = ['state', 'stadium', 'many-shows', 'retained-bookings', 'ended-holds', 'log-records'] as const;
export type CaseName = (typeof CASES)[number];

export interface MemoryPerSeatOptions {
  cases: CaseName[];
  stadiumSeats: number;
  shows: number;
  seatsPerShow: number;
  /** Run the first case here and print its Measure as JSON (what each case's child does). */
  child: boolean;
}

/** The issue's targets: bytes per seat of an empty stadium, RSS of a million seats in one worker. */
const TARGET_EMPTY_STADIUM_BYTES_PER_SEAT = 16;
const TARGET_MILLION_SEATS_RSS_MB = 300;
export const SEATS_PER_BIG_ROW = 400;
const CREATE_CONCURRENCY = 64;

interface Measure {
  case: CaseName;
  what: string;
  shows: number;
  /** Seats; for the record cases, records (cycles). */
  seats: number;
  heapBytesPerSeat: number;
  rssBytesPerSeat: number;
  heapGrowthMb: number;
  rssGrowthMb: number;
  /** The whole process after the case (modules, storage and the shows), MB. */
  rssTotalMb: number;
  baselineRssMb: number;
  seconds: number;
}

function settle(): { heap: number; rss: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:memory does)');
  for (let i = 0; i < 3; i++) gc();
  const m = process.memoryUsage();
  // Typed arrays of the seat map live outside the JS heap: count them with it.
  return { heap: m.heapUsed + m.arrayBuffers, rss: m.rss };
}

function apply(state: ShowState | null, cmd: ShowCommand): ShowState {
  const d = decide(state, cmd, Date.now());
  if (!d.ok) throw new Error(`${cmd.type} refused: ${JSON.stringify(d).slice(0, 200)}`);
  for (const e of d.events) state = evolve(state, e);
  return state!;
}

export async function run(opts: MemoryPerSeatOptions): Promise<void> {
  const { stadiumSeats, shows, seatsPerShow } = opts;

  const MB = 1024 * 1024;

  async function measure(name: CaseName, what: string, showCount: number, seats: number, build: () => Promise<unknown>): Promise<Measure> {
    const before = settle();
    const t0 = performance.now();
    const kept = await build();
    const seconds = (performance.now() - t0) / 1000;
    // Let callbacks already queued run first: a reply still on its way out (a created show's
    // full view) is not what the show keeps.
    await new Promise((resolve) => setImmediate(resolve));
    const after = settle();
    if (kept === undefined) throw new Error('the case must return what it keeps alive');
    return {
      case: name,
      what,
      shows: showCount,
      seats,
      heapBytesPerSeat: Math.round(((after.heap - before.heap) / seats) * 10) / 10,
      rssBytesPerSeat: Math.round(((after.rss - before.rss) / seats) * 10) / 10,
      heapGrowthMb: Math.round(((after.heap - before.heap) / MB) * 10) / 10,
      rssGrowthMb: Math.round(((after.rss - before.rss) / MB) * 10) / 10,
      rssTotalMb: Math.round((after.rss / MB) * 10) / 10,
      baselineRssMb: Math.round((before.rss / MB) * 10) / 10,
      seconds: Math.round(seconds * 10) / 10,
    };
  }

  const RETAINED_CYCLES = 20_000;
  /** Shows that each fill their memory of ended holds (ENDED_HOLDS_KEPT) in the ended-holds case. */
  const ENDED_HOLD_SHOWS = 50;

  /** `showCount` shows after `cycles` rounds each of hold → confirm → cancel (or hold → release), per record. */
  async function recordsCase(name: CaseName, showCount: number, cycles: number, confirm: boolean): Promise<Measure> {
    const states = Array.from({ length: showCount }, (_, k) =>
      apply(null, { type: 'createShow', def: benchShowDef(`records-${k}`, 10, 20) }),
    );
    const labels = seatLabels(states[0].seatMap);
    const cycle = (k: number, i: number) => {
      const seats = [labels[(2 * i) % labels.length], labels[(2 * i + 1) % labels.length]];
      let state = apply(states[k], { type: 'hold', holdId: `h${i}`, seats });
      if (confirm) {
        state = apply(state, { type: 'confirm', holdId: `h${i}`, bookingId: `b${i}` });
        state = apply(state, { type: 'cancelBookings', bookingIds: [`b${i}`] });
      } else state = apply(state, { type: 'release', holdId: `h${i}` });
      states[k] = state;
    };
    // Warm every code path once so the baseline holds the compiled code, not the first cycle's.
    for (let k = 0; k < showCount; k++) cycle(k, cycles);
    const what = confirm ? 'per hold → confirm → cancelled booking' : 'per released hold remembered';
    return measure(name, what, showCount, showCount * cycles, async () => {
      for (let k = 0; k < showCount; k++) for (let i = 0; i < cycles; i++) cycle(k, i);
      return states;
    });
  }

  const LOG_SHOWS = 100;
  const LOG_APPENDS_PER_SHOW = 1_000;
  const LOG_IN_FLIGHT = 64;

  /** Appends one-event batches (a hold's release, ~150 bytes) to a fresh embedded log. */
  async function logRecordsCase(name: CaseName): Promise<Measure> {
    const dir = mkdtempSync(join(tmpdir(), 'bench-memory-log-'));
    const log = await FileEventLog.open(join(dir, 'events.log'), { logger: pino({ level: 'silent' }) });
    const lastSeq = new Map<string, number>();
    const appendOne = async (show: number, i: number) => {
      const showId = `log-${show}`;
      const events: ShowEvent[] = [
        { type: 'HoldReleased', holdId: `h_${show}_${i}_${'x'.repeat(20)}`, seats: [i % 200, (i + 1) % 200], reason: 'released' },
      ];
      const seq = await log.append(showId, { batchId: randomUUID(), firstVersion: i + 1, events }, lastSeq.get(showId) ?? 0);
      lastSeq.set(showId, seq);
    };
    // One round first, so the baseline holds the compiled code and every show's index.
    for (let k = 0; k < LOG_SHOWS; k++) await appendOne(k, 0);
    try {
      return await measure(name, 'per record appended to the embedded log', LOG_SHOWS, LOG_SHOWS * LOG_APPENDS_PER_SHOW, async () => {
        // Each worker owns whole shows (one writer per show, as the log expects).
        await Promise.all(
          Array.from({ length: LOG_IN_FLIGHT }, async (_, w) => {
            for (let k = w; k < LOG_SHOWS; k += LOG_IN_FLIGHT) for (let i = 1; i <= LOG_APPENDS_PER_SHOW; i++) await appendOne(k, i);
          }),
        );
        return log;
      });
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async function runCase(name: CaseName): Promise<Measure> {
    const logger = pino({ level: 'silent' });
    if (name === 'log-records') return logRecordsCase(name);
    const bigRows = Math.ceil(stadiumSeats / SEATS_PER_BIG_ROW);
    if (name === 'retained-bookings') return recordsCase(name, 1, RETAINED_CYCLES, true);
    if (name === 'ended-holds') return recordsCase(name, ENDED_HOLD_SHOWS, ENDED_HOLDS_KEPT, false);
    if (name === 'state') {
      return measure(name, 'empty show, pure state', 1, bigRows * SEATS_PER_BIG_ROW, async () => {
        const d = decide(null, { type: 'createShow', def: benchShowDef('stadium', bigRows, SEATS_PER_BIG_ROW) }, Date.now());
        if (!d.ok) throw new Error(`createShow refused: ${JSON.stringify(d)}`);
        let state: ShowState | null = null;
        for (const e of d.events) state = evolve(state, e);
        return state;
      });
    }
    const dir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
    try {
      const storage = await openEmbeddedStorage(dir, logger);
      const node = createSeatNode({ holdTokenSecret: undefined, snapshotEveryEvents: 5_000, snapshotEveryMs: 60_000 }, storage, logger);
      // Warm the code paths (and the log file) with one throwaway show before the baseline.
      await node.service.createShow(benchShowInput('warm-up', 1, 10));
      const result =
        name === 'stadium'
          ? await measure(name, 'empty show through a seat node', 1, bigRows * SEATS_PER_BIG_ROW, async () => {
              await node.service.createShow(benchShowInput('stadium', bigRows, SEATS_PER_BIG_ROW));
              return node;
            })
          : await measure(name, `${formatNumber(shows)} empty shows through a seat node`, shows, shows * seatsPerShow, async () => {
              const perRow = 10;
              const rows = Math.ceil(seatsPerShow / perRow);
              let next = 0;
              await Promise.all(
                Array.from({ length: CREATE_CONCURRENCY }, async () => {
                  while (next < shows) await node.service.createShow(benchShowInput(`s${next++}`, rows, perRow));
                }),
              );
              const active = node.host.stats().activeShows;
              if (active < shows) throw new Error(`only ${active} of ${shows} shows are in memory`);
              return node;
            });
      await node.close();
      await storage.close();
      return result;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Runs one case in a fresh node with --expose-gc; the child prints its Measure as JSON. */
  function inChild(name: CaseName): Promise<Measure> {
    const self = fileURLToPath(new URL('./run-memory-per-seat.ts', import.meta.url));
    const argv = [
      '--case',
      name,
      '--child',
      '--stadium-seats',
      String(stadiumSeats),
      '--shows',
      String(shows),
      '--seats-per-show',
      String(seatsPerShow),
    ];
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', self, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => {
        if (code !== 0) return reject(new Error(`case ${name} exited with ${String(code)}: ${out.slice(-500)}`));
        resolve(JSON.parse(out.trim().split('\n').pop()!) as Measure);
      });
    });
  }

  async function main(): Promise<void> {
    const cases = opts.cases;
    if (opts.child) {
      process.stdout.write(`${JSON.stringify(await runCase(cases[0]))}\n`);
      return;
    }
    process.stdout.write(`bench/memory — each case in a fresh process (${process.version})\n`);
    const results: Measure[] = [];
    for (const c of cases) {
      const m = await inChild(c);
      results.push(m);
      process.stdout.write(
        `  ${c}: ${m.heapBytesPerSeat} B/seat heap, ${m.rssBytesPerSeat} B/seat RSS, process RSS ${m.rssTotalMb} MB (${m.seconds} s)\n`,
      );
    }
    process.stdout.write('\n');
    const table = renderTable(
      [
        'case',
        'what',
        'shows',
        'seats (records)',
        'heap B/seat (record)',
        'RSS B/seat (record)',
        'heap +MB',
        'RSS +MB',
        'baseline RSS MB',
        'process RSS MB',
      ],
      results.map((m) => [
        m.case,
        m.what,
        formatNumber(m.shows),
        formatNumber(m.seats),
        formatNumber(m.heapBytesPerSeat, 1),
        formatNumber(m.rssBytesPerSeat, 1),
        m.heapGrowthMb,
        m.rssGrowthMb,
        m.baselineRssMb,
        m.rssTotalMb,
      ]),
    );
    process.stdout.write(`${table}\n`);
    const stadium = results.find((m) => m.case === 'stadium');
    const many = results.find((m) => m.case === 'many-shows');
    const targets = {
      emptyStadiumBytesPerSeat: {
        target: TARGET_EMPTY_STADIUM_BYTES_PER_SEAT,
        measured: stadium?.heapBytesPerSeat ?? null,
        met: stadium ? stadium.heapBytesPerSeat <= TARGET_EMPTY_STADIUM_BYTES_PER_SEAT : null,
      },
      millionSeatsRssMb: {
        target: TARGET_MILLION_SEATS_RSS_MB,
        measured: many?.rssTotalMb ?? null,
        met: many ? many.rssTotalMb <= TARGET_MILLION_SEATS_RSS_MB : null,
      },
    };
    const verdict = (t: { measured: number | null; met: boolean | null }, unit: string) =>
      t.measured === null ? 'not measured' : `${t.measured} ${unit}, ${t.met ? 'met' : 'not met'}`;
    process.stdout.write(
      `targets: empty stadium ≤ ${TARGET_EMPTY_STADIUM_BYTES_PER_SEAT} B/seat → ${verdict(targets.emptyStadiumBytesPerSeat, 'B/seat')}; ` +
        `1,000,000 seats in one process ≤ ${TARGET_MILLION_SEATS_RSS_MB} MB RSS → ${verdict(targets.millionSeatsRssMb, `MB for ${formatNumber(many?.seats ?? 0)} seats`)}\n`,
    );
    const path = writeJson(resultPath('memory'), { node: process.version, startedAt: new Date().toISOString(), results, targets });
    process.stdout.write(`wrote ${path}\n`);
  }

  return main();
}
