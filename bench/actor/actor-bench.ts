/**
 * bench/actor — the show actor in process, no network:
 *  - the pure core (decide + evolve) alone,
 *  - the single-writer shell (mailbox, group commit to the in-memory log, replies),
 * on one show of 10,000 seats and on 1,000 shows of 500 seats, plus the memory a 100,000-seat
 * show takes. Prints a table and writes bench/results/actor.json.
 *
 * Run with --expose-gc for the memory figures (`npm run bench`, whose command line is run.ts, does).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { decide } from '../../src/actors/decide.ts';
import { evolve } from '../../src/actors/evolve.ts';
import type { ShowState } from '../../src/actors/show-state.ts';
import type { ShowCommand } from '../../src/actors/types.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { benchShowDef } from '../../testkit/shows.ts';
import { seatLabels } from '../../src/actors/seat-map.ts';

const logger = pino({ level: 'silent' });

export interface ActorBenchOptions {
  /** Seconds of load per row. */
  seconds: number;
  /** Commands in flight in the shell rows. */
  inflight: number;
}

function apply(state: ShowState | null, cmd: ShowCommand, now: number): ShowState | null {
  const d = decide(state, cmd, now);
  if (!d.ok) return state;
  for (const e of d.events) state = evolve(state, e);
  return state;
}

interface Row {
  bench: string;
  layer: 'core' | 'shell';
  shows: number;
  seatsPerShow: number;
  commands: number;
  seconds: number;
  commandsPerSec: number;
}

export async function run(opts: ActorBenchOptions): Promise<void> {
  const { seconds: SECONDS, inflight: INFLIGHT } = opts;
  const def = benchShowDef;

  /** Pure core: hold 2 seats then release (or confirm) them, round-robin over shows. */
  function coreBench(name: string, shows: number, rows: number, perRow: number, confirm: boolean): Row {
    const now = Date.now();
    const capacity = rows * perRow;
    const states: Array<ShowState | null> = [];
    for (let s = 0; s < shows; s++) states.push(apply(null, { type: 'createShow', def: def(`s${s}`, rows, perRow) }, now));
    const labels = seatLabels(states[0]!.seatMap);
    const cursor = new Array<number>(shows).fill(0);
    let commands = 0;
    let id = 0;
    const started = process.hrtime.bigint();
    const deadline = started + BigInt(SECONDS * 1e9);
    while (process.hrtime.bigint() < deadline) {
      for (let k = 0; k < 1000; k++) {
        const s = id % shows;
        let state = states[s];
        if (confirm && cursor[s] + 2 > capacity) {
          state = apply(null, { type: 'createShow', def: def(`s${s}`, rows, perRow) }, now);
          cursor[s] = 0;
        }
        const at = confirm ? cursor[s] : (cursor[s] + 2) % (capacity - 1);
        cursor[s] = confirm ? at + 2 : at;
        const holdId = `h${++id}`;
        state = apply(state, { type: 'hold', holdId, seats: [labels[at], labels[at + 1]] }, now);
        state = apply(state, confirm ? { type: 'confirm', holdId, bookingId: `b${id}` } : { type: 'release', holdId }, now);
        states[s] = state;
        commands += 2;
      }
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { bench: name, layer: 'core', shows, seatsPerShow: capacity, commands, seconds, commandsPerSec: commands / seconds };
  }

  /**
   * The shell: INFLIGHT concurrent clients, each hold → release (same pair again and again) or
   * hold → confirm (walking every pair of seats; when every show is sold out, a fresh round of
   * shows), all through ActorHost.execute with group commit to the in-memory log.
   */
  async function shellBench(name: string, shows: number, rows: number, perRow: number, confirm: boolean): Promise<Row> {
    const storage = openMemoryStorage(logger);
    const host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, snapshotEveryEvents: 1e9, snapshotEveryMs: 1e12 });
    const capacity = rows * perRow;
    const pairsPerShow = Math.floor(capacity / 2);
    let round = 0;
    const createRound = async () => {
      round++;
      for (let s = 0; s < shows; s++)
        await host.execute(`s${s}-r${round}`, { type: 'createShow', def: def(`s${s}-r${round}`, rows, perRow) });
    };
    await createRound();
    const labels = (await host.read(`s0-r${round}`, (st) => seatLabels(st.seatMap))).slice();
    let commands = 0;
    let id = 0;
    let next = 0; // next (show, pair) work item of the current round, for confirms
    // The in-memory log never leaves the microtask queue, so a timer would never fire: poll the clock.
    const deadline = process.hrtime.bigint() + BigInt(SECONDS * 1e9);
    const stopped = () => process.hrtime.bigint() >= deadline;
    let roundReady: Promise<void> | null = null;
    const client = async (c: number) => {
      let k = 0;
      while (!stopped()) {
        let showId: string;
        let at: number;
        if (confirm) {
          if (next >= shows * pairsPerShow) {
            roundReady ??= createRound().then(() => {
              next = 0;
              roundReady = null;
            });
            await roundReady;
            continue;
          }
          const item = next++;
          showId = `s${item % shows}-r${round}`;
          at = Math.floor(item / shows) * 2;
        } else {
          showId = `s${(c + k++) % shows}-r1`;
          at = (c * 2) % (capacity - 1);
        }
        const n = ++id;
        const holdId = `h${n}`;
        await host.execute(showId, { type: 'hold', holdId, seats: [labels[at], labels[at + 1]] });
        await host.execute(showId, confirm ? { type: 'confirm', holdId, bookingId: `b${n}` } : { type: 'release', holdId });
        commands += 2;
      }
    };
    const started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: INFLIGHT }, (_, c) => client(c)));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    await host.close();
    return { bench: name, layer: 'shell', shows, seatsPerShow: capacity, commands, seconds, commandsPerSec: commands / seconds };
  }

  function memoryPerSeat(): { seats: number; bytesPerSeatEmpty: number; bytesPerSeatAllHeld: number; totalMbAllHeld: number } | null {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) return null;
    const now = Date.now();
    const rows = 250;
    const perRow = 400;
    gc();
    const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    let state = apply(null, { type: 'createShow', def: def('stadium', rows, perRow) }, now) as ShowState;
    gc();
    const empty = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const labels = seatLabels(state.seatMap);
    const big = { ...state.def, limits: { ...state.def.limits, maxSeatsPerHold: 4 } };
    state.def = big;
    for (let i = 0; i + 4 <= labels.length; i += 4)
      state = apply(state, { type: 'hold', holdId: `h${i}`, seats: labels.slice(i, i + 4) }, now) as ShowState;
    gc();
    const full = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const seats = rows * perRow;
    if (state.counts.held !== seats) throw new Error('memory bench did not hold every seat');
    return {
      seats,
      bytesPerSeatEmpty: Math.round((empty - before) / seats),
      bytesPerSeatAllHeld: Math.round((full - before) / seats),
      totalMbAllHeld: Math.round(((full - before) / 1e6) * 10) / 10,
    };
  }

  const rows: Row[] = [];
  const progress = (r: Row) => {
    rows.push(r);
    process.stdout.write(`  ${r.layer} ${r.bench}: ${Math.round(r.commandsPerSec).toLocaleString('en-US')} commands/s\n`);
  };
  progress(coreBench('hold+release, 1 show × 10,000 seats', 1, 100, 100, false));
  progress(coreBench('hold+confirm, 1 show × 10,000 seats', 1, 100, 100, true));
  progress(coreBench('hold+release, 1,000 shows × 500 seats', 1000, 10, 50, false));
  progress(coreBench('hold+confirm, 1,000 shows × 500 seats', 1000, 10, 50, true));
  progress(await shellBench('hold+release, 1 show × 10,000 seats', 1, 100, 100, false));
  progress(await shellBench('hold+confirm, 1 show × 10,000 seats', 1, 100, 100, true));
  progress(await shellBench('hold+release, 1,000 shows × 500 seats', 1000, 10, 50, false));
  progress(await shellBench('hold+confirm, 1,000 shows × 500 seats', 1000, 10, 50, true));
  const memory = memoryPerSeat();

  const table = rows.map((r) => ({ layer: r.layer, bench: r.bench, 'commands/s': Math.round(r.commandsPerSec).toLocaleString('en-US') }));
  process.stdout.write(
    `bench/actor — ${cpus().length} cpus, ${SECONDS}s per row, shell with ${INFLIGHT} commands in flight (in-memory log)\n`,
  );
  console.table(table);
  if (memory)
    process.stdout.write(
      `memory: ${memory.seats.toLocaleString('en-US')}-seat show = ${memory.bytesPerSeatEmpty} B/seat empty, ${memory.bytesPerSeatAllHeld} B/seat with every seat held (${memory.totalMbAllHeld} MB)\n`,
    );
  else process.stdout.write('memory: run with --expose-gc to measure\n');

  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/actor.json',
    JSON.stringify(
      {
        machine: { cpus: cpus().length, node: process.version },
        startedAt: new Date().toISOString(),
        seconds: SECONDS,
        inflight: INFLIGHT,
        results: rows,
        memory,
      },
      null,
      2,
    ),
  );
}
