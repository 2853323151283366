/**
 * bench/actor/idempotency-memory — what one remembered idempotency key costs a show.
 *
 * For holds of 10, 100 and 1,000 seats: KEYS keyed holds (each released again, so the seats
 * go round) on one show, then the heap the show's key map takes and the bytes it adds to a
 * snapshot. Beside it, the same keys stored as whole hold replies (price line per seat), as
 * the show used to keep them. Prints a table and writes bench/results/idempotency.json.
 *
 * Needs node --expose-gc; the command line is run-idempotency-memory.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { decide } from '../../src/actors/decide.ts';
import { evolve } from '../../src/actors/evolve.ts';
import type { ShowState } from '../../src/actors/show-state.ts';
import { serializeState } from '../../src/actors/state-codec.ts';
import type { CommandReply, ShowCommand } from '../../src/actors/types.ts';
import { benchShowDef } from '../../testkit/shows.ts';
import { seatLabels } from '../../src/actors/seat-map.ts';

export interface IdempotencyMemoryOptions {
  /** Keyed holds per seats-per-hold size. */
  keys: number;
}

function apply(state: ShowState | null, cmd: ShowCommand, now: number): { state: ShowState; reply: CommandReply } {
  const d = decide(state, cmd, now);
  if (!d.ok) throw d.error;
  for (const e of d.events) state = evolve(state, e);
  return { state: state as ShowState, reply: d.reply };
}

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

interface Row {
  seatsPerHold: number;
  keys: number;
  /** Heap of the show's key map per key (compact records). */
  heapBytesPerKey: number;
  /** Snapshot JSON per key. */
  snapshotBytesPerKey: number;
  /** Heap per key when whole replies are kept. */
  wholeReplyHeapBytesPerKey: number;
}

export async function run(opts: IdempotencyMemoryOptions): Promise<void> {
  const KEYS = opts.keys;
  if (typeof gc !== 'function') throw new Error('run with node --expose-gc');

  function measure(seatsPerHold: number): Row {
    const now = Date.parse('2026-11-01T10:00:00Z');
    const def = benchShowDef('idem', 10, Math.max(seatsPerHold, 100));
    def.limits = { ...def.limits, maxSeatsPerHold: seatsPerHold };
    let { state } = apply(null, { type: 'createShow', def }, now);
    const labels = seatLabels(state.seatMap).slice(0, seatsPerHold);
    // Replies kept as text, so nothing of them is shared with the show's records while measuring.
    const replies: string[] = [];
    for (let i = 0; i < KEYS; i++) {
      const r = apply(state, { type: 'hold', holdId: `h${i}`, seats: labels, idem: `key-${i}` }, now + i);
      replies.push(JSON.stringify(r.reply));
      state = apply(r.state, { type: 'release', holdId: `h${i}` }, now + i).state;
    }
    const kept = state.idempotent.size;
    const snapshotWith = JSON.stringify(serializeState(state)).length;
    // The key map as a restarted show has it (read back from a snapshot: its own strings).
    const keysText = JSON.stringify([...state.idempotent]);
    state.idempotent = new Map();
    const snapshotWithout = JSON.stringify(serializeState(state)).length;
    const withoutKeys = heapUsed();
    state.idempotent = new Map(JSON.parse(keysText));
    const withKeys = heapUsed();
    // Whole replies as the show used to keep them: the reply objects, price lines and all.
    const before = heapUsed();
    const whole = new Map(replies.map((r, i) => [`key-${i}`, JSON.parse(r) as CommandReply]));
    const after = heapUsed();
    if (whole.size !== KEYS) throw new Error('lost replies');
    return {
      seatsPerHold,
      keys: kept,
      heapBytesPerKey: Math.round((withKeys - withoutKeys) / KEYS),
      snapshotBytesPerKey: Math.round((snapshotWith - snapshotWithout) / KEYS),
      wholeReplyHeapBytesPerKey: Math.round((after - before) / KEYS),
    };
  }

  const rows = [10, 100, 1000].map(measure);
  console.table(rows);
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/idempotency.json',
    JSON.stringify(
      { machine: { cpus: cpus().length, node: process.version }, startedAt: new Date().toISOString(), keys: KEYS, results: rows },
      null,
      2,
    ),
  );
}
