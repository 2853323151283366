import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import type { CommittedBatch } from '../../src/actors/show-actor.ts';
import { MemoryEventLog, MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import { outEventsOf, type ShowCancelledOut, type ShowChangedOut } from '../../src/projections/out-events.ts';
import { showDef } from '../../testkit/shows.ts';
import { seatLabels } from '../../src/actors/seat-map.ts';

const logger = pino({ level: 'silent' });
const LIMIT = 16 * 1024;

/** A show with `bookings` one-seat bookings and `holds` open holds; returns the host and the batches it commits. */
async function bookedShow(bookings: number, holds: number): Promise<{ host: ActorHost; batches: CommittedBatch[] }> {
  const batches: CommittedBatch[] = [];
  const host = new ActorHost({
    log: new MemoryEventLog(),
    snapshots: new MemorySnapshotStore(),
    logger,
    maxBatch: 1024,
    onCommitted: (b) => batches.push({ ...b }),
  });
  await host.execute('s', { type: 'createShow', def: showDef('s', 40, 50) });
  const labels = await host.read('s', (s) => seatLabels(s.seatMap).slice());
  await Promise.all(
    Array.from({ length: bookings + holds }, (_, i) => host.execute('s', { type: 'hold', holdId: `h${i}`, seats: [labels[i]] })),
  );
  await Promise.all(
    Array.from({ length: bookings }, (_, i) => host.execute('s', { type: 'confirm', holdId: `h${i}`, bookingId: `b${i}` })),
  );
  return { host, batches };
}

describe('out-events of changes with long lists', () => {
  it('pages show.cancelled under the limit, each page its own eventId, covering every refund once', async () => {
    const { host, batches } = await bookedShow(600, 150);
    await host.execute('s', { type: 'cancelShow', reason: 'storm' });
    const batch = batches.at(-1) as CommittedBatch;
    const pages = outEventsOf(batch, Date.now(), LIMIT)
      .map((m) => m.event)
      .filter((e): e is ShowCancelledOut => e.type === 'ShowCancelled');
    assert.ok(pages.length > 1, `${pages.length} pages`);
    const refunds = new Set<string>();
    const holds = new Set<string>();
    let total = 0;
    pages.forEach((p, i) => {
      assert.ok(Buffer.byteLength(JSON.stringify(p)) <= LIMIT, `page ${p.page} is ${Buffer.byteLength(JSON.stringify(p))} bytes`);
      assert.equal(p.page, i + 1);
      assert.equal(p.pages, pages.length);
      assert.equal(p.eventId, `s:${p.version}:${p.page}`);
      assert.equal(
        p.refundTotal,
        p.refunds.reduce((sum, b) => sum + (b.refundDue ?? 0), 0),
      );
      for (const b of p.refunds) refunds.add(b.bookingId);
      for (const h of p.releasedHolds) holds.add(h);
      total += p.refundTotal;
    });
    assert.equal(refunds.size, 600);
    assert.equal(holds.size, 150);
    assert.equal(total, 600 * 50_000);
  });

  it('keeps one message, and its eventId, when everything fits', async () => {
    const { host, batches } = await bookedShow(3, 1);
    await host.execute('s', { type: 'cancelShow' });
    const [page] = outEventsOf(batches.at(-1) as CommittedBatch, Date.now(), LIMIT).filter((m) => m.event.type === 'ShowCancelled');
    assert.deepEqual(
      [page.event.eventId, (page.event as ShowCancelledOut).page, (page.event as ShowCancelledOut).pages],
      [`s:${page.event.version}`, 1, 1],
    );
  });

  it('pages show.changed when a layout change cancels many bookings', async () => {
    const { host, batches } = await bookedShow(500, 0);
    await host.execute('s', { type: 'changeShow', changes: { layout: showDef('s', 1, 50).layout } });
    const pages = outEventsOf(batches.at(-1) as CommittedBatch, Date.now(), LIMIT)
      .map((m) => m.event)
      .filter((e): e is ShowChangedOut => e.type === 'ShowChanged');
    assert.ok(pages.length > 1);
    assert.ok(pages.every((p) => Buffer.byteLength(JSON.stringify(p)) <= LIMIT));
    assert.equal(new Set(pages.flatMap((p) => p.cancelledBookings.map((b) => b.bookingId))).size, 450);
  });
});
