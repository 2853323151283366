import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { evolve } from '../../src/actors/evolve.ts';
import { DEFAULT_IDEMPOTENCY_MARGIN_SECONDS } from '../../src/actors/idempotency.ts';
import type { ShowState } from '../../src/actors/show-state.ts';
import { deserializeState, serializeState, type SerializedState } from '../../src/actors/state-codec.ts';
import type { HoldReply, Layout } from '../../src/actors/types.ts';
import { SeatError } from '../../src/errors.ts';
import { MemoryEventLog } from '../../src/persistence/memory-store.ts';
import type { Snapshot, SnapshotStore } from '../../src/core/ports.ts';
import { checkAccounting } from '../support/core.ts';
import { showDef } from '../../testkit/shows.ts';

const logger = pino({ level: 'silent' });
const ROWS = 3;
const PER_ROW = 5;
const label = (i: number) => `${String.fromCharCode(65 + Math.floor(i / PER_ROW))}-${(i % PER_ROW) + 1}`;

/**
 * Keeps every snapshot it is given, turned into text only after a turn of the event loop, as
 * any store that writes to disk or a database does (the scheduler picks when, among the
 * clients' steps). The snapshot it was handed must not change meanwhile.
 */
class RecordingSnapshotStore implements SnapshotStore {
  readonly saved: Array<{ logSeq: number; text: string }> = [];
  constructor(private readonly later: () => Promise<unknown>) {}
  async save(snapshot: Snapshot): Promise<boolean> {
    await this.later();
    this.saved.push({ logSeq: snapshot.logSeq, text: JSON.stringify(snapshot) });
    return true;
  }
  async load(): Promise<Snapshot | null> {
    const last = this.saved.at(-1);
    return last ? (JSON.parse(last.text) as Snapshot) : null;
  }
  async delete(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The show's state at exactly log seq `upTo`, from the log alone. */
async function stateAt(log: MemoryEventLog, showId: string, upTo: number): Promise<ShowState> {
  let state: ShowState | null = null;
  for await (const entry of log.read(showId, 0)) {
    if (entry.seq > upTo) break;
    for (const e of entry.events) state = evolve(state, e);
    (state as ShowState).logSeq = entry.seq;
  }
  return state as ShowState;
}

async function replayFrom(log: MemoryEventLog, showId: string, snapshot: SerializedState): Promise<ShowState> {
  let state = deserializeState(snapshot);
  for await (const entry of log.read(showId, snapshot.logSeq)) {
    for (const e of entry.events) state = evolve(state, e);
    state.logSeq = entry.seq;
  }
  return state;
}

const EXPECTED_CODES = new Set([
  'SEAT_UNAVAILABLE',
  'HOLD_EXPIRED',
  'HOLD_NOT_FOUND',
  'HOLD_ALREADY_CONFIRMED',
  'SHOW_CANCELLED',
  'HOLD_LIMIT_EXCEEDED',
]);

const op = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('hold' as const),
      seats: fc.uniqueArray(fc.nat(ROWS * PER_ROW - 1), { minLength: 1, maxLength: 3 }),
      keyed: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retry' as const), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('confirm' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('extend' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('layout' as const), front: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1_000, max: 400_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancelBooking' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancelShow' as const), roll: fc.integer({ min: 0, max: 14 }) }) },
);
type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

describe('snapshots are exact', () => {
  it('every snapshot equals the state at its log seq, and snapshot + tail equals the live state', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.array(op, { maxLength: 10 }), { minLength: 2, maxLength: 5 }), async (s, programs) => {
        const log = new MemoryEventLog();
        const snapshots = new RecordingSnapshotStore(() => s.schedule(Promise.resolve('snapshot written')));
        const clock = { t: Date.parse('2026-11-01T10:00:00Z') };
        const host = new ActorHost({ log, snapshots, logger, now: () => clock.t, snapshotEveryEvents: 1 });
        const showId = 'exact';
        const def = showDef(showId, ROWS, PER_ROW, { limits: { maxSeatsPerHold: 4, holdTtlSeconds: 300, maxHoldSeconds: 900 } });
        const base = def.layout.sections[0].rows;
        // A row added in front moves every seat index; removing it moves them back.
        const withFront: Layout = { sections: [{ id: 'main', rows: [{ label: 'F', seats: 2, category: 'gold' }, ...base] }] };
        await host.execute(showId, { type: 'createShow', def });
        const confirmed: string[] = [];
        const allHolds: string[] = [];
        let n = 0;
        const attempt = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
          try {
            return await fn();
          } catch (err) {
            assert.ok(err instanceof SeatError && EXPECTED_CODES.has(err.code), `unexpected ${String((err as Error).message)}`);
            return undefined;
          }
        };
        const client = async (ops: Op[]) => {
          const mine: HoldReply[] = [];
          const keyed: Array<{ key: string; seats: string[]; holdId: string; at: number }> = [];
          for (const o of ops) {
            await s.schedule(Promise.resolve(o.kind));
            switch (o.kind) {
              case 'hold': {
                const holdId = `h${++n}`;
                allHolds.push(holdId);
                const seats = o.seats.map(label);
                const key = o.keyed ? `k-${holdId}` : undefined;
                const r = await attempt(() => host.execute(showId, { type: 'hold', holdId, seats, ...(key ? { idem: key } : {}) }));
                if (r?.type === 'hold') {
                  mine.push(r.hold);
                  if (key) keyed.push({ key, seats, holdId, at: clock.t });
                }
                break;
              }
              case 'retry': {
                // A keyed hold sent again (new generated id, same key and body) gets the first hold back.
                const k = keyed[o.pick % Math.max(1, keyed.length)];
                if (!k) break;
                const r = await attempt(() => host.execute(showId, { type: 'hold', holdId: `h${++n}`, seats: k.seats, idem: k.key }));
                // Within the retention (the show's longest hold plus the margin) the key is remembered.
                if (r && clock.t - k.at < (900 + DEFAULT_IDEMPOTENCY_MARGIN_SECONDS) * 1000)
                  assert.equal(r.type === 'hold' && r.hold.holdId, k.holdId);
                break;
              }
              case 'confirm': {
                const h = mine[o.pick % Math.max(1, mine.length)];
                if (!h) break;
                const r = await attempt(() => host.execute(showId, { type: 'confirm', holdId: h.holdId, bookingId: `b-${h.holdId}` }));
                if (r?.type === 'confirm') confirmed.push(r.booking.bookingId);
                break;
              }
              case 'release':
              case 'extend': {
                const h = mine[o.pick % Math.max(1, mine.length)];
                if (!h) break;
                await attempt(() =>
                  host.execute(
                    showId,
                    o.kind === 'release'
                      ? { type: 'release', holdId: h.holdId }
                      : { type: 'extendHold', holdId: h.holdId, ttlSeconds: 600 },
                  ),
                );
                break;
              }
              case 'layout':
                await attempt(() =>
                  host.execute(showId, {
                    type: 'changeShow',
                    changes: { layout: o.front ? withFront : { sections: [{ id: 'main', rows: base }] } },
                    idem: `layout-${++n}`,
                  }),
                );
                break;
              case 'tick':
                clock.t += o.ms;
                await host.execute(showId, { type: 'expireHolds', holdIds: [...allHolds] });
                break;
              case 'cancelBooking': {
                const id = confirmed[o.pick % Math.max(1, confirmed.length)];
                if (id) await host.execute(showId, { type: 'cancelBookings', bookingIds: [id] });
                break;
              }
              case 'cancelShow':
                if (o.roll === 0) await host.execute(showId, { type: 'cancelShow' });
                break;
            }
          }
        };
        await s.waitFor(Promise.all(programs.map(client)));
        await s.waitAll();
        const live = await host.read(showId, (st) => {
          checkAccounting(st);
          return serializeState(st);
        });
        // Close writes a last snapshot; keep releasing the store's scheduled writes until it is done.
        let closed = false;
        const closing = host.close().then(() => (closed = true));
        while (!closed) {
          await s.waitAll();
          await new Promise((r) => setImmediate(r));
        }
        await closing;
        assert.ok(snapshots.saved.length > 0);
        for (const { logSeq, text } of snapshots.saved) {
          const snap = (JSON.parse(text) as Snapshot).state as SerializedState;
          assert.equal(snap.logSeq, logSeq);
          // The snapshot is the state at exactly the seq it names...
          assert.deepEqual(
            snap,
            JSON.parse(JSON.stringify(serializeState(await stateAt(log, showId, logSeq)))),
            `snapshot at seq ${logSeq} differs from the log`,
          );
          // ...so recovery from it plus the log after it is the live state.
          const rebuilt = await replayFrom(log, showId, snap);
          checkAccounting(rebuilt);
          assert.deepEqual(JSON.parse(JSON.stringify(serializeState(rebuilt))), JSON.parse(JSON.stringify(live)));
        }
      }),
      { numRuns: 120 },
    );
  });
});
