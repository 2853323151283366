import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decide } from '../../src/actors/decide.ts';
import { evolveAll } from '../../src/actors/evolve.ts';
import { deserializeState, serializeState, type SerializedState } from '../../src/actors/state-codec.ts';
import type { ShowState } from '../../src/actors/show-state.ts';
import type { CommandReply, KeyedCommand, ShowCommand, ShowEvent } from '../../src/actors/types.ts';
import { CoreDriver } from '../support/core.ts';
import { showDef } from '../../testkit/shows.ts';

const MINUTE = 60_000;

/** Runs one command like the shell does and keeps its events, so a replica can replay them. */
class RecordingDriver extends CoreDriver {
  readonly events: ShowEvent[] = [];

  step(cmd: ShowCommand): { reply?: CommandReply; code?: string; events: number } {
    const d = decide(this.state, cmd, this.now);
    if (!d.ok) return { code: d.error.code, events: 0 };
    this.events.push(...d.events);
    this.state = evolveAll(this.state, d.events);
    return { reply: d.reply, events: d.events.length };
  }
}

const snapshotOf = (s: ShowState) => JSON.stringify(serializeState(s));
const roundTrip = (s: ShowState) => deserializeState(JSON.parse(JSON.stringify(serializeState(s))) as SerializedState);

/** A stadium-sized admin cancel: `n` single-seat bookings. */
function manyBookings(n: number): { d: RecordingDriver; bookingIds: string[] } {
  const d = new RecordingDriver(null);
  assert.ok(d.step({ type: 'createShow', def: showDef('big', Math.ceil(n / 100), 100) }).reply);
  const bookingIds: string[] = [];
  for (let i = 0; i < n; i++) {
    d.step({ type: 'hold', holdId: `h${i}`, count: 1 });
    d.step({ type: 'confirm', holdId: `h${i}`, bookingId: `b-${i}-0123456789abcdef` });
    bookingIds.push(`b-${i}-0123456789abcdef`);
  }
  return { d, bookingIds };
}

describe('idempotency records stay small and survive snapshots and replicas', () => {
  it('a cancel of 20,000 bookings keeps a record of a few dozen bytes and answers its retry whole, after a snapshot too', () => {
    const { d, bookingIds } = manyBookings(20_000);
    const cmd: ShowCommand = { type: 'cancelBookings', bookingIds, refundPercent: 80, idem: 'bulk' };
    const first = d.step(cmd);
    assert.equal(first.reply?.type, 'cancelBookings');
    const record = d.s.idempotent.get('bulk');
    assert.ok(record);
    const size = JSON.stringify(record).length;
    assert.ok(size < 200, `record of ${size} bytes`);
    const version = d.s.version;
    const retry = d.step(cmd);
    assert.equal(retry.events, 0);
    assert.deepEqual(retry.reply, first.reply);
    assert.equal(d.s.version, version);
    const recovered = roundTrip(d.s);
    const again = decide(recovered, cmd, d.now + MINUTE);
    assert.ok(again.ok);
    assert.deepEqual(again.events, []);
    assert.deepEqual(again.reply, first.reply);
    // Another list under the key is refused, as for every key.
    const other = decide(d.s, { ...cmd, bookingIds: bookingIds.slice(1) }, d.now);
    assert.equal(other.ok ? 'ok' : other.error.code, 'IDEMPOTENCY_MISMATCH');
  });

  it('decodes a format-1 snapshot (keys as whole replies) and answers its keys', () => {
    const d = new CoreDriver(showDef('old', 2, 10));
    const hold = d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2'] });
    d.ok({ type: 'hold', holdId: 'h2', seats: ['B-1'] });
    const booking = d.ok({ type: 'confirm', holdId: 'h2', bookingId: 'b1' });
    const cancelled = d.ok({ type: 'cancelBookings', bookingIds: ['b1'] });
    // What the old code wrote: format 1, `idempotent` as [key, whole reply] pairs.
    const current = serializeState(d.s);
    const old = {
      ...current,
      format: 1,
      idempotent: [
        ['hold:k1', hold],
        ['confirm:k2', booking],
        ['cancel:k3', cancelled],
      ],
    } as unknown as SerializedState;
    const state = deserializeState(JSON.parse(JSON.stringify(old)) as SerializedState);
    assert.deepEqual([...state.idempotent.keys()], ['hold:k1', 'confirm:k2', 'cancel:k3']);
    for (const r of state.idempotent.values()) assert.equal(r.fp, '', 'an old key has no fingerprint: any body matches, as it did');
    const retries: Array<[KeyedCommand, CommandReply]> = [
      [{ type: 'hold', holdId: 'h-new', seats: ['A-1', 'A-2'], idem: 'hold:k1' }, hold],
      [{ type: 'confirm', holdId: 'h2', bookingId: 'b-new', idem: 'confirm:k2' }, booking],
      [{ type: 'cancelBookings', bookingIds: ['b1'], idem: 'cancel:k3' }, cancelled],
    ];
    for (const [cmd, reply] of retries) {
      const again = decide(state, cmd, d.now);
      assert.ok(again.ok, cmd.type);
      assert.deepEqual(again.events, [], cmd.type);
      assert.deepEqual(again.reply, reply, cmd.type);
    }
    // Written again, it is format 2 and decodes to the same keys.
    assert.deepEqual([...roundTrip(state).idempotent], [...state.idempotent]);
  });

  it('decodes a format-2 snapshot whose cancel record lists its booking ids (written before records kept none)', () => {
    const d = new CoreDriver(showDef('old2', 2, 10));
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'] });
    d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' });
    const cmd: KeyedCommand = { type: 'cancelBookings', bookingIds: ['b1'], idem: 'k' };
    const first = d.ok(cmd);
    const s = JSON.parse(JSON.stringify(serializeState(d.s))) as SerializedState;
    const [key, record] = s.idempotent[0];
    s.idempotent = [[key, { ...record, result: { type: 'cancelBookings', bookingIds: ['b1'] } }]];
    const state = deserializeState(s);
    const again = decide(state, cmd, d.now);
    assert.ok(again.ok);
    assert.deepEqual(again.events, []);
    assert.deepEqual(again.reply, first);
  });

  it('a keyed command that changes nothing still logs its key where a later retry could do otherwise', () => {
    const d = new RecordingDriver(null);
    d.step({ type: 'createShow', def: showDef('noop', 2, 10), blockedSeats: ['B-1'] });
    d.step({ type: 'hold', holdId: 'h1', seats: ['A-1'], ttlSeconds: 600 });
    // Asking for less than is left answers the current expiry; asked again later, it would extend.
    const extend: ShowCommand = { type: 'extendHold', holdId: 'h1', ttlSeconds: 60, idem: 'ext' };
    const first = d.step(extend);
    assert.equal(first.events, 1, 'an event carries the key');
    assert.equal(d.s.holds.get('h1')?.expiresAt, d.now + 600_000, 'and changes nothing');
    d.now += 580_000;
    const retry = d.step(extend);
    assert.deepEqual([retry.events, retry.reply], [0, first.reply]);
    // Blocking a blocked seat; unblocked since, a retry must not block it again.
    const block: ShowCommand = { type: 'blockSeats', seats: ['B-1'], idem: 'blk' };
    assert.equal(d.step(block).events, 1);
    d.step({ type: 'unblockSeats', seats: ['B-1'] });
    const version = d.s.version;
    assert.equal(d.step(block).events, 0);
    assert.equal(d.statusOf('B-1'), 0, 'still available');
    assert.equal(d.s.version, version);
    // Releasing an ended hold answers the same however late: nothing logged.
    d.step({ type: 'release', holdId: 'h1' });
    assert.equal(d.step({ type: 'release', holdId: 'h1', idem: 'rel' }).events, 0);
  });

  it('random keyed commands with retries: a retry answers the first answer and changes nothing; replicas, recovery and snapshots agree', () => {
    const seat = fc.constantFrom('A-1', 'A-2', 'A-3', 'B-1', 'B-2', 'B-3', 'C-1', 'C-2');
    const holdRef = fc.nat(7);
    const bookingRef = fc.nat(7);
    // Changes that keep every seat and every price: a retry of a hold whose price changed
    // since answers only the total first quoted (see idempotency.ts), so prices stay put here.
    const change = fc.constantFrom<KeyedCommand & { type: 'changeShow' }>(
      { type: 'changeShow', changes: { title: 'Dune II' } },
      { type: 'changeShow', changes: { venue: 'Screen 9' } },
      { type: 'changeShow', changes: { startsAt: '2026-12-02T19:30:00+05:30' } },
      {
        type: 'changeShow',
        changes: {
          layout: { sections: [{ id: 'main', rows: ['A', 'B', 'C', 'D'].map((label) => ({ label, seats: 10, category: 'gold' })) }] },
        },
      },
    );
    type Step =
      | { kind: 'new'; make: (holds: string[], bookings: string[]) => KeyedCommand; advance: number }
      | { kind: 'retry'; of: number; advance: number };
    const fresh = fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .record({ seats: fc.uniqueArray(seat, { minLength: 1, maxLength: 3 }), customerId: fc.constantFrom(undefined, 'c1') })
          .map(
            ({ seats, customerId }) =>
              (_h: string[], _b: string[]) =>
                ({ type: 'hold', holdId: '', seats, ...(customerId ? { customerId } : {}) }) as KeyedCommand,
          ),
      },
      {
        weight: 1,
        arbitrary: fc.record({ n: fc.integer({ min: 1, max: 3 }) }).map(
          ({ n }) =>
            () =>
              ({ type: 'hold', holdId: '', count: n }) as KeyedCommand,
        ),
      },
      {
        weight: 2,
        arbitrary: fc.tuple(holdRef, fc.integer({ min: 60, max: 1700 })).map(
          ([i, ttl]) =>
            (h: string[]) =>
              ({ type: 'extendHold', holdId: h[i % Math.max(1, h.length)] ?? 'none', ttlSeconds: ttl }) as KeyedCommand,
        ),
      },
      {
        weight: 2,
        arbitrary: holdRef.map(
          (i) => (h: string[]) => ({ type: 'release', holdId: h[i % Math.max(1, h.length)] ?? 'none' }) as KeyedCommand,
        ),
      },
      {
        weight: 3,
        arbitrary: fc.tuple(holdRef, fc.constantFrom(undefined, 'pay-1')).map(
          ([i, paymentRef]) =>
            (h: string[]) =>
              ({
                type: 'confirm',
                holdId: h[i % Math.max(1, h.length)] ?? 'none',
                bookingId: '',
                ...(paymentRef ? { paymentRef } : {}),
              }) as KeyedCommand,
        ),
      },
      {
        weight: 2,
        arbitrary: fc.tuple(fc.uniqueArray(bookingRef, { minLength: 1, maxLength: 3 }), fc.constantFrom(undefined, 50, 100)).map(
          ([is, refundPercent]) =>
            (_h: string[], b: string[]) =>
              ({
                type: 'cancelBookings',
                bookingIds: is.map((i) => b[i % Math.max(1, b.length)] ?? 'none'),
                ...(refundPercent !== undefined ? { refundPercent } : {}),
              }) as KeyedCommand,
        ),
      },
      {
        weight: 2,
        arbitrary: fc
          .uniqueArray(seat, { minLength: 1, maxLength: 2 })
          .map((seats) => () => ({ type: 'blockSeats', seats }) as KeyedCommand),
      },
      {
        weight: 2,
        arbitrary: fc
          .uniqueArray(seat, { minLength: 1, maxLength: 2 })
          .map((seats) => () => ({ type: 'unblockSeats', seats }) as KeyedCommand),
      },
      { weight: 1, arbitrary: change.map((c) => () => c) },
      { weight: 1, arbitrary: fc.constant(() => ({ type: 'cancelShow', reason: 'storm' }) as KeyedCommand) },
    );
    const step: fc.Arbitrary<Step> = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('new' as const), make: fresh, advance: fc.integer({ min: 0, max: 20_000 }) }) },
      {
        weight: 2,
        arbitrary: fc.record({ kind: fc.constant('retry' as const), of: fc.nat(200), advance: fc.integer({ min: 0, max: 20_000 }) }),
      },
    );

    const retried = new Set<string>();
    fc.assert(
      fc.property(fc.array(step, { minLength: 20, maxLength: 80 }), (steps) => {
        const d = new RecordingDriver(null);
        d.step({ type: 'createShow', def: showDef('p', 3, 10) });
        const holds: string[] = [];
        const bookings: string[] = [];
        // Keyed commands that succeeded, with their first answer.
        const recorded: Array<{ cmd: KeyedCommand; reply: CommandReply }> = [];
        let n = 0;
        for (const s of steps) {
          d.now += s.advance;
          if (s.kind === 'new') {
            const cmd = { ...s.make(holds, bookings), idem: `k${n}` } as KeyedCommand;
            if (cmd.type === 'hold') cmd.holdId = `h${n}`;
            if (cmd.type === 'confirm') cmd.bookingId = `b${n}`;
            n++;
            const r = d.step(cmd);
            if (r.reply?.type === 'hold') holds.push(r.reply.hold.holdId);
            if (r.reply?.type === 'confirm') bookings.push(r.reply.booking.bookingId);
            // Every success is answered again the same, except a confirm of a hold that had
            // already become a booking: it logs nothing, and shows the booking as it is then.
            if (r.reply && (r.events > 0 || cmd.type !== 'confirm')) recorded.push({ cmd, reply: r.reply });
            continue;
          }
          if (!recorded.length) continue;
          const { cmd, reply } = recorded[s.of % recorded.length];
          // The service makes new ids for a retry; the key finds the first ones.
          const retry = {
            ...cmd,
            ...(cmd.type === 'hold' ? { holdId: `h-retry-${n}` } : {}),
            ...(cmd.type === 'confirm' ? { bookingId: `b-retry-${n}` } : {}),
          } as KeyedCommand;
          const before = snapshotOf(d.s);
          const r = d.step(retry);
          assert.equal(r.code, undefined, `retry of ${cmd.type} refused`);
          assert.equal(r.events, 0, `retry of ${cmd.type} logged events`);
          assert.deepEqual(r.reply, reply, `retry of ${cmd.type}`);
          assert.equal(snapshotOf(d.s), before, `retry of ${cmd.type} changed the show`);
          retried.add(cmd.type);
        }
        // A replica (every event from nothing) and a recovery (snapshot) hold the same keys.
        const replica = evolveAll(null, d.events) as ShowState;
        replica.logSeq = d.s.logSeq;
        assert.equal(snapshotOf(replica), snapshotOf(d.s));
        const recovered = roundTrip(d.s);
        assert.equal(snapshotOf(recovered), snapshotOf(d.s));
        for (const { cmd, reply } of recorded) {
          if (!d.s.idempotent.has(cmd.idem as string)) continue;
          const again = decide(recovered, cmd, d.now);
          assert.ok(again.ok && again.events.length === 0, `retry of ${cmd.type} after recovery`);
          assert.deepEqual(again.reply, reply, `retry of ${cmd.type} after recovery`);
        }
      }),
      { numRuns: 200 },
    );
    // The runs retried every one of the nine keyed commands.
    assert.deepEqual([...retried].sort(), [
      'blockSeats',
      'cancelBookings',
      'cancelShow',
      'changeShow',
      'confirm',
      'extendHold',
      'hold',
      'release',
      'unblockSeats',
    ]);
  });
});
