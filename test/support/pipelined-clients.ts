import assert from 'node:assert/strict';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import type { CommittedBatch } from '../../src/actors/show-actor.ts';
import { serializeState } from '../../src/actors/state-codec.ts';
import { SeatError } from '../../src/errors.ts';
import type { EventLog, SnapshotStore } from '../../src/core/ports.ts';
import { MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import { checkAccounting } from './core.ts';
import { FaultyLog, type AppendStep } from './faulty-log.ts';
import { showDef } from '../../testkit/shows.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

/** Answers a client may get under contention and injected log failures. */
const EXPECTED_CODES = new Set([
  'SEAT_UNAVAILABLE',
  'HOLD_NOT_FOUND',
  'HOLD_ALREADY_CONFIRMED',
  'HOLD_EXPIRED',
  'HOLD_LIMIT_EXCEEDED',
  'UNAVAILABLE',
]);

/** mulberry32: a small seeded generator, so a failing seed can be run again. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PipelinedClientsOptions {
  /** The real log (the faults are put in front of it). */
  log: EventLog;
  snapshots?: SnapshotStore;
  showId: string;
  seed: number;
  /** Whether the writer learns seqs early from the log (EventLog.appendPipelined). */
  pipelined: boolean;
  depth?: number;
  clients?: number;
  opsPerClient?: number;
  /** Chance that an append fails (half before its write, half after it with the answer lost). */
  failureRate?: number;
  maxDelayMs?: number;
}

/**
 * Many concurrent clients hold, confirm, release and read one show whose actor pipelines its
 * commits, while the log delays its answers at random and fails some appends, and the booking
 * row write before a confirm's answer takes a while and sometimes fails. Checks: no
 * seat sold twice, every acknowledged hold and confirm in the log, acknowledged writes
 * answered in log order, listeners shown each committed batch once in log order, every read
 * showing only written holds and bookings, and afterwards the show serving with a state
 * exactly the log's.
 */
export async function runPipelinedClients(opts: PipelinedClientsOptions): Promise<{ acknowledged: number; failedAppends: number }> {
  const rand = seeded(opts.seed);
  const ctx = `seed ${opts.seed}`;
  const failureRate = opts.failureRate ?? 0.05;
  const maxDelayMs = opts.maxDelayMs ?? 3;
  let faults = false;
  let failedAppends = 0;
  const plan = (): AppendStep => {
    if (!faults) return {};
    const delayMs = Math.floor(rand() * (maxDelayMs + 1));
    const roll = rand();
    if (roll < failureRate) {
      failedAppends++;
      return { delayMs, fail: roll < failureRate / 2 ? 'before-write' : 'after-write' };
    }
    return { delayMs };
  };
  const log = new FaultyLog(opts.log, plan, opts.pipelined);
  // Confirms wait for their booking rows before they are answered, as in a node with Postgres:
  // a write that takes a while (so batches queue behind it) and sometimes fails.
  let failedRowWrites = 0;
  const beforeReply = async (batch: CommittedBatch): Promise<void> => {
    if (!faults || !batch.events.some((e) => e.type === 'BookingConfirmed')) return;
    await new Promise((r) => setTimeout(r, Math.floor(rand() * (maxDelayMs + 1))));
    if (rand() < failureRate / 2) {
      failedRowWrites++;
      throw new Error('injected booking row write failure');
    }
  };
  const commits: number[] = [];
  const host = new ActorHost({
    log,
    snapshots: opts.snapshots ?? new MemorySnapshotStore(),
    logger,
    maxBatch: 1 + Math.floor(rand() * 6),
    pipelineDepth: opts.depth ?? 4,
    snapshotEveryEvents: 17,
    onCommitted: (b: CommittedBatch) => commits.push(b.seq),
    beforeReply,
  });
  const show = opts.showId;
  const seats = (i: number) => `${String.fromCharCode(65 + Math.floor(i / 10))}-${(i % 10) + 1}`;
  await host.execute(show, {
    type: 'createShow',
    def: showDef(show, 4, 10, { limits: { maxSeatsPerHold: 4, holdTtlSeconds: 3_600, maxHoldSeconds: 7_200 } }),
  });
  faults = true;

  /** Acknowledged writes in the order their answers arrived. */
  const acked: Array<{ kind: 'hold' | 'confirm'; id: string }> = [];
  let n = 0;
  const attempt = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      assert.ok(err instanceof SeatError && EXPECTED_CODES.has(err.code), `${ctx}: unexpected ${String((err as Error).message)}`);
      return undefined;
    }
  };
  const client = async (c: number) => {
    const mine: string[] = [];
    for (let k = 0; k < (opts.opsPerClient ?? 25); k++) {
      const r = rand();
      if (r < 0.45 || mine.length === 0) {
        const holdId = `h${c}-${++n}`;
        const picks = [...new Set([Math.floor(rand() * 40), Math.floor(rand() * 40)].slice(0, 1 + Math.floor(rand() * 2)))];
        const reply = await attempt(() => host.execute(show, { type: 'hold', holdId, seats: picks.map(seats) }));
        if (reply?.type === 'hold') {
          acked.push({ kind: 'hold', id: holdId });
          mine.push(holdId);
        }
      } else if (r < 0.7) {
        const holdId = mine.splice(Math.floor(rand() * mine.length), 1)[0] as string;
        const reply = await attempt(() => host.execute(show, { type: 'confirm', holdId, bookingId: `b-${holdId}` }));
        if (reply?.type === 'confirm') acked.push({ kind: 'confirm', id: reply.booking.bookingId });
      } else if (r < 0.8) {
        const holdId = mine.splice(Math.floor(rand() * mine.length), 1)[0] as string;
        await attempt(() => host.execute(show, { type: 'release', holdId }));
      } else {
        // Reads see committed state only: nothing the log has not written.
        await attempt(() =>
          host.read(show, (s) => {
            for (const id of s.holds.keys()) assert.ok(log.writtenHolds.has(id), `${ctx}: a read saw hold ${id} before it was written`);
            for (const id of s.bookings.keys())
              assert.ok(log.writtenBookings.has(id), `${ctx}: a read saw booking ${id} before it was written`);
          }),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: opts.clients ?? 8 }, (_, c) => client(c)));
  faults = false;

  // The log, read back: where each hold and booking landed, and no seat sold twice.
  const holdSeq = new Map<string, number>();
  const bookingSeq = new Map<string, number>();
  const soldTo = new Map<number, string>();
  const bookingSeats = new Map<string, number[]>();
  for await (const entry of opts.log.read(show, 0)) {
    for (const e of entry.events) {
      if (e.type === 'SeatsHeld') holdSeq.set(e.holdId, entry.seq);
      if (e.type === 'BookingConfirmed') {
        bookingSeq.set(e.bookingId, entry.seq);
        bookingSeats.set(e.bookingId, e.seats);
        for (const seat of e.seats) {
          assert.ok(!soldTo.has(seat), `${ctx}: seat ${seat} sold to ${soldTo.get(seat)} and ${e.bookingId}`);
          soldTo.set(seat, e.bookingId);
        }
      }
      if (e.type === 'BookingCancelled') for (const seat of bookingSeats.get(e.bookingId) ?? []) soldTo.delete(seat);
    }
  }
  let lastSeq = 0;
  for (const a of acked) {
    const seq = (a.kind === 'hold' ? holdSeq : bookingSeq).get(a.id);
    assert.ok(seq !== undefined, `${ctx}: acknowledged ${a.kind} ${a.id} is not in the log`);
    assert.ok(seq >= lastSeq, `${ctx}: ${a.kind} ${a.id} (seq ${seq}) answered after a write at seq ${lastSeq}`);
    lastSeq = seq;
  }
  assert.deepEqual(
    commits,
    [...new Set(commits)].sort((a, b) => a - b),
    `${ctx}: listeners saw each batch once, in log order`,
  );

  // The show serves afterwards, and its live state is exactly the log's.
  const free = await host.read(show, (s) => s.seatStatus.indexOf(0));
  if (free >= 0) {
    const held = await host.execute(show, { type: 'hold', holdId: 'final', seats: [seats(free)] });
    assert.equal(held.type, 'hold', `${ctx}: a hold after the run`);
    assert.equal((await host.execute(show, { type: 'confirm', holdId: 'final', bookingId: 'b-final' })).type, 'confirm');
  }
  const live = await host.read(show, (s) => {
    checkAccounting(s);
    return serializeState(s);
  });
  await host.close();
  const rebuilt = await new ActorHost({ log: opts.log, snapshots: new MemorySnapshotStore(), logger }).load(show);
  assert.deepEqual(serializeState(rebuilt.state!), live, `${ctx}: live state equals the log replayed`);
  return { acknowledged: acked.length, failedAppends: failedAppends + failedRowWrites };
}
