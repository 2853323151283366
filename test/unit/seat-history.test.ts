import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { SeatHistoryScan } from '../../src/actors/seat-history.ts';
import { openEmbeddedStorage, openMemoryStorage } from '../../src/persistence/index.ts';
import { tempDir } from '../persistence/temp-dir.ts';
import type { EventLog } from '../../src/core/ports.ts';
import { readSeatHistory } from '../../src/service/seat-history-reader.ts';
import { showDef } from '../../testkit/shows.ts';

const logger = pino({ level: 'silent' });

function setup() {
  const storage = openMemoryStorage(logger);
  const clock = { now: Date.now() };
  const host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, now: () => clock.now });
  return { storage, host, clock, sources: { log: storage.log, snapshots: storage.snapshots } };
}

/** The log as retention leaves it: entries before `fromSeq` are gone. */
function retainedFrom(log: EventLog, fromSeq: number): EventLog {
  return {
    append: (showId, batch, expected) => log.append(showId, batch, expected),
    read: async function* (showId, afterSeq) {
      for await (const e of log.read(showId, afterSeq)) if (e.seq >= fromSeq) yield e;
    },
    lastSeq: (showId) => log.lastSeq(showId),
    showIds: () => log.showIds(),
    close: () => log.close(),
  };
}

const statuses = (h: { history: Array<{ status: string }> }) => h.history.map((e) => e.status);

describe('seat history', () => {
  it('reads held, booked, available for a seat held, booked and cancelled, across a snapshot', async () => {
    const { host, sources } = setup();
    await host.execute('s', { type: 'createShow', def: showDef('s') });
    await host.execute('s', { type: 'hold', holdId: 'other', seats: ['A-4'] });
    await host.execute('s', { type: 'hold', holdId: 'h1', seats: ['A-3'], customerId: 'c1' });
    await host.snapshot('s');
    await host.execute('s', { type: 'confirm', holdId: 'h1', bookingId: 'b1' });
    await host.snapshot('s');
    await host.execute('s', { type: 'cancelBookings', bookingIds: ['b1'] });
    const h = await readSeatHistory(sources, 's', 'A-3');
    assert.equal(h.seatId, 'A-3');
    assert.equal(h.complete, true);
    assert.deepEqual(statuses(h), ['held', 'booked', 'available']);
    assert.deepEqual(
      h.history.map(({ at: _at, ...e }) => e),
      [
        { version: 3, status: 'held', holdId: 'h1', customerId: 'c1' },
        { version: 4, status: 'booked', holdId: 'h1', bookingId: 'b1', customerId: 'c1' },
        { version: 5, status: 'available', holdId: 'h1', bookingId: 'b1', customerId: 'c1', reason: 'cancelled' },
      ],
    );
    assert.ok(h.history.every((e) => typeof e.at === 'string' && !Number.isNaN(Date.parse(e.at))));
    assert.deepEqual(statuses(await readSeatHistory(sources, 's', 'A-4')), ['held']);
    assert.deepEqual((await readSeatHistory(sources, 's', 'B-1')).history, []);
    await assert.rejects(readSeatHistory(sources, 's', 'Z-1'), { code: 'NOT_FOUND' });
    await host.close();
  });

  it('tells expiry, release and blocking apart', async () => {
    const { host, clock, sources } = setup();
    await host.execute('s', { type: 'createShow', def: showDef('s'), blockedSeats: ['A-1'] });
    await host.execute('s', { type: 'unblockSeats', seats: ['A-1'] });
    await host.execute('s', { type: 'hold', holdId: 'h1', seats: ['A-1'] });
    await host.execute('s', { type: 'release', holdId: 'h1' });
    await host.execute('s', { type: 'hold', holdId: 'h2', seats: ['A-1'] });
    clock.now += 3_600_000;
    await host.execute('s', { type: 'expireHolds', holdIds: ['h2'] });
    const h = await readSeatHistory(sources, 's', 'A-1');
    assert.deepEqual(
      h.history.map((e) => (e.reason ? `${e.status}:${e.reason}` : e.status)),
      ['blocked', 'available', 'held', 'available:released', 'held', 'available:expired'],
    );
    await host.close();
  });

  it('follows the seat through layout changes that move its index', async () => {
    const { host, sources } = setup();
    const def = showDef('s');
    await host.execute('s', { type: 'createShow', def });
    await host.execute('s', { type: 'hold', holdId: 'h1', seats: ['A-3'] });
    await host.execute('s', { type: 'release', holdId: 'h1' });
    // A new row in front: every seat of A and B moves 10 indices on.
    const rows = def.layout.sections[0].rows;
    await host.execute('s', {
      type: 'changeShow',
      changes: { layout: { sections: [{ id: 'main', rows: [{ label: 'Z', seats: 10, category: 'gold' }, ...rows] }] } },
    });
    await host.execute('s', { type: 'hold', holdId: 'h2', seats: ['A-3'] });
    await host.execute('s', { type: 'hold', holdId: 'h3', seats: ['Z-3'] });
    const h = await readSeatHistory(sources, 's', 'A-3');
    assert.deepEqual(
      h.history.map((e) => [e.status, e.holdId]),
      [
        ['held', 'h1'],
        ['available', 'h1'],
        ['held', 'h2'],
      ],
    );
    assert.deepEqual(
      (await readSeatHistory(sources, 's', 'Z-3')).history.map((e) => e.holdId),
      ['h3'],
    );
    // A row shortened: the seat goes (its hold released for the layout), then comes back.
    await host.execute('s', {
      type: 'changeShow',
      changes: { layout: { sections: [{ id: 'main', rows: [{ label: 'A', seats: 2, category: 'gold' }] }] } },
    });
    await host.execute('s', { type: 'changeShow', changes: { layout: def.layout } });
    await host.execute('s', { type: 'blockSeats', seats: ['A-3'] });
    const back = await readSeatHistory(sources, 's', 'A-3');
    assert.deepEqual(
      back.history.slice(3).map((e) => [e.status, e.reason]),
      [
        ['available', 'layout_changed'],
        ['blocked', undefined],
      ],
    );
    await host.close();
  });

  it('starts at the newest snapshot when retention dropped the log before it, and says so', async () => {
    const { host, storage } = setup();
    await host.execute('s', { type: 'createShow', def: showDef('s') });
    await host.execute('s', { type: 'hold', holdId: 'h1', seats: ['A-3'] });
    await host.execute('s', { type: 'confirm', holdId: 'h1', bookingId: 'b1' });
    await host.snapshot('s');
    const snap = await storage.snapshots.load('s');
    await host.execute('s', { type: 'cancelBookings', bookingIds: ['b1'] });
    await host.execute('s', { type: 'hold', holdId: 'h2', seats: ['A-3'] });
    const h = await readSeatHistory({ log: retainedFrom(storage.log, snap!.logSeq), snapshots: storage.snapshots }, 's', 'A-3');
    assert.equal(h.complete, false);
    assert.equal(h.since, snap!.version);
    assert.deepEqual(
      h.history.map((e) => [e.status, e.bookingId ?? e.holdId]),
      [
        ['available', 'b1'],
        ['held', 'h2'],
      ],
    );
    await host.close();
  });

  it('on the embedded log, starts at the snapshot once the segments before it are deleted', async () => {
    const dir = await tempDir('seats-history-');
    const storage = await openEmbeddedStorage(dir.path, logger, { segmentBytes: 4096 });
    const host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, snapshotEveryEvents: 1e9, snapshotEveryMs: 1e9 });
    const sources = { log: storage.log, snapshots: storage.snapshots };
    try {
      await host.execute('s', { type: 'createShow', def: showDef('s') });
      await host.execute('s', { type: 'hold', holdId: 'h1', seats: ['A-3'] });
      for (let i = 0; i < 60; i++) {
        await host.execute('s', { type: 'hold', holdId: `x${i}`, seats: ['B-1', 'B-2'] });
        await host.execute('s', { type: 'release', holdId: `x${i}` });
      }
      assert.equal((await readSeatHistory(sources, 's', 'A-3')).complete, true);
      await host.snapshot('s');
      // The file log refuses a read from before what it compacted; a log that dropped it silently starts later.
      const fromCreation = async () => {
        try {
          for await (const e of storage.log.read('s', 0)) return e.firstVersion === 1;
        } catch {
          return false;
        }
        return false;
      };
      const deadline = Date.now() + 10_000;
      while (await fromCreation()) {
        if (Date.now() > deadline) throw new Error('the oldest segment was never deleted');
        await new Promise((r) => setTimeout(r, 20));
      }
      await host.execute('s', { type: 'release', holdId: 'h1' });
      const h = await readSeatHistory(sources, 's', 'A-3');
      assert.equal(h.complete, false);
      assert.equal(h.since, (await storage.snapshots.load('s'))!.version);
      assert.deepEqual(
        h.history.map((e) => [e.status, e.holdId, e.reason]),
        [['available', 'h1', 'released']],
      );
    } finally {
      await host.close();
      await storage.close();
      await dir.remove();
    }
  });

  it('keeps the newest entries of a seat that changed more than a history holds', () => {
    const def = showDef('s');
    const scan = new SeatHistoryScan('A-1', null, 3);
    scan.apply({ type: 'ShowCreated', def, blocked: [], at: 1 });
    for (let i = 0; i < 5; i++) {
      scan.apply({ type: 'SeatsHeld', holdId: `h${i}`, seats: [0], createdAt: 10 + i, expiresAt: 1e12 });
      scan.apply({ type: 'HoldReleased', holdId: `h${i}`, seats: [0], reason: 'released', at: 10 + i });
    }
    const r = scan.result();
    assert.equal(r.complete, false);
    assert.deepEqual(
      r.history.map((e) => e.version),
      [9, 10, 11],
    );
    assert.equal(r.since, 8);
  });
});
