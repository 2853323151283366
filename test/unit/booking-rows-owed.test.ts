import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { BookingView } from '../../src/actors/types.ts';
import { createSeatNode } from '../../src/node.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import type { BookingStore } from '../../src/core/ports.ts';
import { showInput } from '../../testkit/shows.ts';
import { until } from '../../testkit/wait.ts';

const logger = pino({ level: 'silent' });

/** A bookings table that can be switched off, as a Postgres outage looks to its callers. */
function switchableRows(): BookingStore & { down: boolean; rows: Map<string, BookingView> } {
  const rows = new Map<string, BookingView>();
  const store = {
    down: false,
    rows,
    upsert: async (views: BookingView[]) => {
      if (store.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      for (const v of views) rows.set(v.bookingId, v);
    },
    get: async (_showId: string, id: string) => rows.get(id) ?? null,
    list: async () => [...rows.values()],
    close: async () => undefined,
  };
  return store;
}

describe('booking rows owed while the bookings table is down', () => {
  it('keeps the show up, holds answering, confirms 503 until the row is written, and no snapshot covering it', async () => {
    const storage = openMemoryStorage(logger);
    const rows = switchableRows();
    storage.bookings = rows;
    const node = createSeatNode(
      { holdTokenSecret: 'owed-rows-secret-0123456789abcdef', snapshotEveryEvents: 100_000, snapshotEveryMs: 3_600_000 },
      storage,
      logger,
    );
    const s = node.service;
    try {
      await s.createShow(showInput('owed'));
      const h1 = await s.hold('owed', { seats: ['A-1'] });
      const h2 = await s.hold('owed', { seats: ['A-2'] });
      await node.host.snapshot('owed');
      const before = (await storage.snapshots.load('owed'))?.logSeq ?? 0;

      rows.down = true;
      await assert.rejects(
        s.confirm('owed', h1.holdId, h1.holdToken, {}, { idempotencyKey: 'confirm-owed-h1' }),
        (err: { code?: string; details?: { retryAfterSeconds?: number } }) => {
          assert.equal(err.code, 'UNAVAILABLE');
          assert.equal(err.details?.retryAfterSeconds, 1);
          return true;
        },
      );
      const bookingId = await node.host.read('owed', (st) => st.bookingByHold.get(h1.holdId));
      assert.ok(bookingId, 'the confirm is in the log');
      // Refused before the log while a row is owed.
      await assert.rejects(s.confirm('owed', h2.holdId, h2.holdToken, {}), { code: 'UNAVAILABLE' });
      assert.equal(await node.host.read('owed', (st) => st.bookingByHold.get(h2.holdId)), undefined);
      // The show stays up and serves holds.
      assert.ok(node.host.isActive('owed'));
      const h3 = await s.hold('owed', { seats: ['A-3'] });
      await s.release('owed', h3.holdId, h3.holdToken);
      // No snapshot covers the unwritten row.
      await node.host.snapshot('owed');
      assert.equal((await storage.snapshots.load('owed'))?.logSeq ?? 0, before);

      rows.down = false;
      const b1 = await until(
        () => s.confirm('owed', h1.holdId, h1.holdToken, {}, { idempotencyKey: 'confirm-owed-h1' }).catch(() => undefined),
        10_000,
        'the confirm to be answered',
      );
      assert.equal(b1.bookingId, bookingId);
      assert.equal(rows.rows.get(bookingId)?.status, 'confirmed');
      const b2 = await s.confirm('owed', h2.holdId, h2.holdToken, {});
      assert.ok(rows.rows.has(b2.bookingId));
      await node.host.snapshot('owed');
      assert.ok(((await storage.snapshots.load('owed'))?.logSeq ?? 0) > before, 'snapshots resume once the rows are written');
    } finally {
      await node.close();
    }
  });
});
