import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { DeadlineHeap } from '../../src/actors/deadline-heap.ts';
import type { CommandReply } from '../../src/actors/types.ts';
import { SeatError } from '../../src/errors.ts';
import { createSeatNode } from '../../src/node.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { CoreDriver, checkAccounting } from '../support/core.ts';
import { showDef } from '../../testkit/shows.ts';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-01T10:00:00Z');

describe('deadline heap', () => {
  it('holds one entry per id and pops in deadline order, whatever is set and deleted', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.record({ set: fc.nat(20), at: fc.nat(1000) }), fc.record({ del: fc.nat(20) }), fc.record({ pop: fc.nat(1000) })),
        ),
        (ops) => {
          const heap = new DeadlineHeap();
          const model = new Map<string, number>();
          for (const o of ops) {
            if ('set' in o) {
              heap.set(o.at, `h${o.set}`);
              model.set(`h${o.set}`, o.at);
            } else if ('del' in o) {
              assert.equal(heap.delete(`h${o.del}`), model.delete(`h${o.del}`));
            } else {
              const due = heap.popDue(o.pop);
              const expected = [...model].filter(([, at]) => at <= o.pop);
              assert.deepEqual(
                due.map((id) => model.get(id)),
                expected.map(([, at]) => at).sort((a, b) => a - b),
              );
              assert.deepEqual(new Set(due), new Set(expected.map(([id]) => id)));
              for (const id of due) model.delete(id);
            }
            assert.equal(heap.size, model.size);
            assert.equal(heap.peek(), model.size ? Math.min(...model.values()) : undefined);
          }
        },
      ),
    );
  });
});

describe('show actor bounds', () => {
  it('tracks a deadline per live hold only: released, confirmed and expired holds leave none', async () => {
    const storage = openMemoryStorage(logger);
    const clock = { t: T0 };
    const host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, now: () => clock.t });
    await host.execute('b', { type: 'createShow', def: showDef('b', 4, 10) });
    const live = async () => ({ holds: await host.read('b', (s) => s.holds.size), deadlines: host.actorLoad('b')?.deadlines });
    for (let i = 1; i <= 30; i++)
      await host.execute('b', { type: 'hold', holdId: `h${i}`, seats: [`${'ABCD'[i % 4]}-${1 + Math.floor(i / 4)}`] });
    assert.deepEqual(await live(), { holds: 30, deadlines: 30 });
    for (let i = 1; i <= 10; i++) await host.execute('b', { type: 'release', holdId: `h${i}` });
    for (let i = 11; i <= 20; i++) await host.execute('b', { type: 'confirm', holdId: `h${i}`, bookingId: `b${i}` });
    await host.execute('b', { type: 'extendHold', holdId: 'h21', ttlSeconds: 900 });
    assert.deepEqual(await live(), { holds: 10, deadlines: 10 });
    clock.t += 700_000; // past every hold but the extended one
    await host.execute('b', { type: 'blockSeats', seats: ['D-10'] });
    assert.deepEqual(await live(), { holds: 1, deadlines: 1 });
    await host.close();
  });

  it('turns commands away with a retryable UNAVAILABLE when the mailbox is full, and stays consistent', async () => {
    const storage = openMemoryStorage(logger);
    const host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, maxMailbox: 8, maxBatch: 4 });
    await host.execute('m', { type: 'createShow', def: showDef('m', 10, 20) });
    const acked = new Map<string, string[]>();
    const busy: SeatError[] = [];
    // 400 clients at once against a mailbox of 8.
    await Promise.all(
      Array.from({ length: 400 }, async (_, i) => {
        const seat = `${String.fromCharCode(65 + (i % 10))}-${1 + (Math.floor(i / 10) % 20)}`;
        try {
          const r: CommandReply = await host.execute('m', { type: 'hold', holdId: `h${i}`, seats: [seat] });
          if (r.type === 'hold') acked.set(r.hold.holdId, r.hold.seats);
        } catch (err) {
          if (err instanceof SeatError && err.code === 'UNAVAILABLE') busy.push(err);
          else if (!(err instanceof SeatError && err.code === 'SEAT_UNAVAILABLE')) throw err;
        }
      }),
    );
    assert.ok(busy.length > 0, 'some callers were turned away');
    assert.ok(acked.size > 0, 'the show kept working');
    for (const e of busy) assert.ok((e.details.retryAfterSeconds ?? 0) >= 1);
    await host.read('m', (s) => {
      checkAccounting(s);
      assert.deepEqual(new Set(s.holds.keys()), new Set(acked.keys()), 'exactly the acknowledged holds exist');
    });
    assert.equal(host.actorLoad('m')?.mailbox, 0);
    await host.close();
  });

  it('drops a command whose caller’s deadline passed before it was decided', async () => {
    const storage = openMemoryStorage(logger);
    const clock = { t: T0 };
    const host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, now: () => clock.t });
    await host.execute('d', { type: 'createShow', def: showDef('d') });
    await assert.rejects(host.execute('d', { type: 'hold', holdId: 'late', seats: ['A-1'] }, { deadline: clock.t - 1 }), {
      code: 'DEADLINE_EXCEEDED',
    });
    const r = await host.execute('d', { type: 'hold', holdId: 'in-time', seats: ['A-1'] }, { deadline: clock.t + 1_000 });
    assert.equal(r.type, 'hold');
    assert.deepEqual(await host.read('d', (s) => [...s.holds.keys()]), ['in-time']);
    await host.close();
  });
});

describe('caller deadlines through the seat service', () => {
  it('a command whose CallContext deadline has passed is dropped undone', async () => {
    const n = createSeatNode(
      { holdTokenSecret: 'k'.repeat(32), snapshotEveryEvents: 100, snapshotEveryMs: 60_000 },
      openMemoryStorage(logger),
      logger,
    );
    const { limits: _l, offers: _o, ...def } = showDef('cd');
    await n.service.createShow(def);
    await assert.rejects(n.service.hold('cd', { seats: ['A-1'] }, { deadline: Date.now() - 1 }), { code: 'DEADLINE_EXCEEDED' });
    const ok = await n.service.hold('cd', { seats: ['A-1'] }, { deadline: Date.now() + 60_000 });
    assert.deepEqual(ok.seats, ['A-1']);
    assert.equal((await n.service.getShow('cd')).version, 2);
    await n.close();
  });
});

describe('a hold past its deadline is over, timer fired or not', () => {
  it('decide: confirm and extend answer HOLD_EXPIRED; its seats can be held by others', () => {
    const d = new CoreDriver(showDef('s1', 1, 4));
    d.ok({ type: 'hold', holdId: 'old', seats: ['A-1', 'A-2'], ttlSeconds: 60 });
    d.ok({ type: 'hold', holdId: 'other', seats: ['A-3', 'A-4'], ttlSeconds: 600 });
    d.now += 60_000;
    assert.equal(d.fails({ type: 'confirm', holdId: 'old', bookingId: 'b1' }), 'HOLD_EXPIRED');
    assert.equal(d.fails({ type: 'extendHold', holdId: 'old', ttlSeconds: 600 }), 'HOLD_EXPIRED');
    const r = d.ok({ type: 'hold', holdId: 'new', seats: ['A-2'] });
    assert.deepEqual(r.hold.seats, ['A-2']);
    assert.equal(d.s.holds.has('old'), false);
    assert.equal(d.s.endedHolds.get('old')?.reason, 'expired');
    assert.equal(d.statusOf('A-1'), 0);
    checkAccounting(d.s);
    assert.equal(d.fails({ type: 'hold', holdId: 'x', seats: ['A-3'] }), 'SEAT_UNAVAILABLE');
  });

  it('decide: best available counts the seats of holds past their deadline', () => {
    const d = new CoreDriver(showDef('s1', 1, 4));
    d.ok({ type: 'hold', holdId: 'old', count: 4, ttlSeconds: 60 });
    d.now += 60_001;
    assert.equal(d.ok({ type: 'hold', holdId: 'new', count: 4 }).hold.seats.length, 4);
    checkAccounting(d.s);
  });

  it('the first command after activation is not refused for a hold whose deadline passed while the show was away', async () => {
    const storage = openMemoryStorage(logger);
    const clock = { t: T0 };
    const first = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, now: () => clock.t });
    await first.execute('a', { type: 'createShow', def: showDef('a', 1, 2) });
    await first.execute('a', { type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2'], ttlSeconds: 60 });
    await first.close();
    clock.t += 61_000;
    const second = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, now: () => clock.t });
    const r = await second.execute('a', { type: 'hold', holdId: 'h2', count: 2 });
    assert.equal(r.type, 'hold');
    await assert.rejects(second.execute('a', { type: 'confirm', holdId: 'h1', bookingId: 'b1' }), { code: 'HOLD_EXPIRED' });
    await second.close();
  });
});
