import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openMemoryStorage, type Storage } from '../../src/persistence/index.ts';
import type { CallContext } from '../../src/service/seat-service.ts';
import { showInput } from '../../testkit/shows.ts';
import { until } from '../../testkit/wait.ts';

const logger = pino({ level: 'silent' });
const SHOW = 'keyed';

interface Harness {
  n: SeatNode;
  storage: Storage;
  /** Out-events seen so far, by subject. */
  out: Array<{ subject: string; eventId: string }>;
}

function start(): Harness {
  const storage = openMemoryStorage(logger);
  const out: Harness['out'] = [];
  storage.bus.subscribe('seats.out.>', (m, subject) => out.push({ subject, eventId: (m as { eventId: string }).eventId }));
  const n = createSeatNode({ holdTokenSecret: 'k'.repeat(32), snapshotEveryEvents: 1_000, snapshotEveryMs: 600_000 }, storage, logger);
  return { n, storage, out };
}

/**
 * Publishes a marker (an unkeyed title change) and waits for its out-event: per show,
 * out-events go in version order, so once the marker is seen every earlier one is too.
 * Answers the marker's eventId.
 */
async function settle(h: Harness, marker: number): Promise<string> {
  await h.n.service.changeShow(SHOW, { title: `marker ${marker}` });
  const id = `${SHOW}:${await h.n.host.read(SHOW, (s) => s.version)}`;
  await until(() => h.out.some((o) => o.eventId === id), 5_000, `marker ${id}`);
  return id;
}

describe('every keyed command answers a retry with its first answer, logging and publishing nothing', () => {
  it('hold, extend, confirm, release, cancel (admin and customer), block, unblock, change and cancel show, at the show', async () => {
    const h = start();
    const { n } = h;
    try {
      await n.service.createShow(showInput(SHOW, 3, 10));
      const key = (k: string): CallContext => ({ idempotencyKey: k });
      const hold = await n.service.hold(SHOW, { seats: ['A-1', 'A-2'] }, key('hold'));
      const other = await n.service.hold(SHOW, { seats: ['B-1'] });
      const third = await n.service.hold(SHOW, { seats: ['C-1'] });
      const booking = await n.service.confirm(SHOW, other.holdId, other.holdToken, {});
      const own = await n.service.confirm(SHOW, third.holdId, third.holdToken, {});
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['hold', () => n.service.hold(SHOW, { seats: ['A-1', 'A-2'] }, key('hold'))],
        ['extendHold', () => n.service.extendHold(SHOW, hold.holdId, hold.holdToken, 1200, key('extend'))],
        ['blockSeats', () => n.service.blockSeats(SHOW, ['C-9', 'C-10'], key('block'))],
        ['unblockSeats', () => n.service.unblockSeats(SHOW, ['C-9'], key('unblock'))],
        ['cancelBookings', () => n.service.cancelBookings(SHOW, [booking.bookingId], key('cancel-bookings'), { refundPercent: 50 })],
        ['cancelOwnBooking', () => n.service.cancelOwnBooking(SHOW, own.bookingId, own.bookingToken, key('cancel-own'))],
        ['changeShow', () => n.service.changeShow(SHOW, { venue: 'Screen 2' }, key('change'))],
        ['confirm', () => n.service.confirm(SHOW, hold.holdId, hold.holdToken, { paymentRef: 'p-1' }, key('confirm'))],
        [
          'release',
          async () => {
            const r = await n.service.hold(SHOW, { seats: ['B-5'] }, key('hold-to-release'));
            await n.service.release(SHOW, r.holdId, r.holdToken, key('release'));
            return r.holdId;
          },
        ],
        ['cancelShow', () => n.service.cancelShow(SHOW, 'storm', key('cancel-show'))],
      ];
      let marker = 0;
      for (const [name, call] of calls) {
        const first = await call();
        // Before the retry the show has published everything of the first call.
        if (name !== 'cancelShow') await settle(h, marker++);
        else await until(() => h.out.some((o) => o.subject === 'seats.out.show.cancelled'), 5_000, 'show.cancelled');
        const seqBefore = await h.storage.log.lastSeq(SHOW);
        const outBefore = h.out.length;
        const version = await n.host.read(SHOW, (s) => s.version);
        const again = await call();
        // PATCH answers the show as it is now: only the markers' title and version moved since.
        const comparable = (v: unknown) => (name === 'changeShow' ? { ...(v as object), title: '', version: 0 } : v);
        assert.deepEqual(comparable(again), comparable(first), `retry of ${name}: same answer`);
        assert.equal(await n.host.read(SHOW, (s) => s.version), version, `retry of ${name}: no event`);
        // Out-events come from committed log entries only: nothing logged, nothing published.
        assert.equal(await h.storage.log.lastSeq(SHOW), seqBefore, `retry of ${name}: nothing logged`);
        if (name === 'cancelShow') continue; // a cancelled show takes no marker
        const markerId = await settle(h, marker++);
        assert.deepEqual(
          h.out.slice(outBefore).map((o) => o.eventId),
          [markerId],
          `retry of ${name}: only the marker published`,
        );
      }
    } finally {
      await n.close();
    }
  });

  it('the same key with another request is refused with IDEMPOTENCY_MISMATCH for every command, and changes nothing', async () => {
    const { n } = start();
    try {
      await n.service.createShow(showInput(SHOW, 3, 10));
      const key = (k: string): CallContext => ({ idempotencyKey: k });
      const a = await n.service.hold(SHOW, { seats: ['A-1'] }, key('k-hold'));
      const b = await n.service.hold(SHOW, { seats: ['B-1'] });
      const booked = await n.service.confirm(SHOW, b.holdId, b.holdToken, {}, key('k-confirm'));
      const c = await n.service.hold(SHOW, { seats: ['B-2'] });
      const booked2 = await n.service.confirm(SHOW, c.holdId, c.holdToken, {});
      await n.service.extendHold(SHOW, a.holdId, a.holdToken, 900, key('k-extend'));
      await n.service.blockSeats(SHOW, ['C-1'], key('k-block'));
      await n.service.unblockSeats(SHOW, ['C-1'], key('k-unblock'));
      await n.service.cancelBookings(SHOW, [booked.bookingId], key('k-cancel'), { refundPercent: 100 });
      await n.service.changeShow(SHOW, { title: 'Dune II' }, key('k-change'));
      const version = await n.host.read(SHOW, (s) => s.version);
      const refusals: Array<[string, Promise<unknown>]> = [
        ['hold', n.service.hold(SHOW, { seats: ['A-2'] }, key('k-hold'))],
        ['extendHold', n.service.extendHold(SHOW, a.holdId, a.holdToken, 1000, key('k-extend'))],
        ['blockSeats', n.service.blockSeats(SHOW, ['C-2'], key('k-block'))],
        ['unblockSeats', n.service.unblockSeats(SHOW, ['C-2'], key('k-unblock'))],
        ['cancelBookings', n.service.cancelBookings(SHOW, [booked2.bookingId], key('k-cancel'), { refundPercent: 100 })],
        ['changeShow', n.service.changeShow(SHOW, { title: 'Dune III' }, key('k-change'))],
        ['confirm', n.service.confirm(SHOW, b.holdId, b.holdToken, { paymentRef: 'other' }, key('k-confirm'))],
      ];
      for (const [name, p] of refusals) await assert.rejects(p, { code: 'IDEMPOTENCY_MISMATCH' }, name);
      assert.equal(await n.host.read(SHOW, (s) => s.version), version);
      const show = await n.service.getShow(SHOW);
      assert.equal(show.title, 'Dune II');
      assert.equal(show.seats.find((s) => s.id === 'C-2')?.status, 'available');
      assert.equal((await n.service.getBooking(SHOW, booked2.bookingId)).status, 'confirmed');
    } finally {
      await n.close();
    }
  });
});
