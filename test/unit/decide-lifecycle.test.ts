import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SEAT_AVAILABLE, SEAT_BLOCKED, SEAT_BOOKED, SEAT_HELD } from '../../src/actors/types.ts';
import { checkAccounting, CoreDriver } from '../support/core.ts';
import { showDef } from '../../testkit/shows.ts';
import { seatIndexOf } from '../../src/actors/seat-map.ts';

describe('extend', () => {
  it('extends a live hold, capped at the show maximum', () => {
    const d = new CoreDriver();
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'], ttlSeconds: 60 });
    d.now += 30_000;
    const r = d.ok({ type: 'extendHold', holdId: 'h1', ttlSeconds: 600 });
    assert.equal(Date.parse(r.expiresAt), d.now + 600_000);
    d.now += 500_000;
    const capped = d.ok({ type: 'extendHold', holdId: 'h1', ttlSeconds: 1800 });
    assert.equal(Date.parse(capped.expiresAt), d.s.holds.get('h1')!.createdAt + 1_800_000);
    d.now += 1_000;
    assert.equal(d.fails({ type: 'extendHold', holdId: 'h1', ttlSeconds: 1800 }), 'HOLD_LIMIT_EXCEEDED');
    // Asking for less time than is left keeps the hold as it is.
    const v = d.s.version;
    assert.equal(d.ok({ type: 'extendHold', holdId: 'h1', ttlSeconds: 10 }).expiresAt, capped.expiresAt);
    assert.equal(d.s.version, v);
  });

  it('refuses unknown and expired holds', () => {
    const d = new CoreDriver();
    assert.equal(d.fails({ type: 'extendHold', holdId: 'nope' }), 'HOLD_NOT_FOUND');
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'], ttlSeconds: 60 });
    d.now += 60_000;
    assert.equal(d.fails({ type: 'extendHold', holdId: 'h1' }), 'HOLD_EXPIRED');
    assert.equal(d.fails({ type: 'extendHold', holdId: 'h1', ttlSeconds: 0 }), 'HOLD_EXPIRED');
  });
});

describe('release', () => {
  it('returns the seats to sale; a second release is a no-op success', () => {
    const d = new CoreDriver();
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2'] });
    d.ok({ type: 'release', holdId: 'h1' });
    assert.equal(d.statusOf('A-1'), SEAT_AVAILABLE);
    const v = d.s.version;
    d.ok({ type: 'release', holdId: 'h1' });
    assert.equal(d.s.version, v);
    assert.equal(d.fails({ type: 'release', holdId: 'nope' }), 'HOLD_NOT_FOUND');
    checkAccounting(d.s);
  });

  it('cannot release a hold that became a booking', () => {
    const d = new CoreDriver();
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'] });
    d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' });
    assert.equal(d.fails({ type: 'release', holdId: 'h1' }), 'HOLD_ALREADY_CONFIRMED');
  });
});

describe('expire', () => {
  it('expires only holds whose deadline has passed, as events', () => {
    const d = new CoreDriver();
    d.ok({ type: 'hold', holdId: 'short', seats: ['A-1'], ttlSeconds: 10 });
    d.ok({ type: 'hold', holdId: 'long', seats: ['A-2'], ttlSeconds: 100 });
    d.now += 10_000;
    const r = d.ok({ type: 'expireHolds', holdIds: ['short', 'long', 'unknown'] });
    assert.deepEqual(r.holdIds, ['short']);
    assert.equal(d.statusOf('A-1'), SEAT_AVAILABLE);
    assert.equal(d.statusOf('A-2'), SEAT_HELD);
    assert.equal(d.fails({ type: 'confirm', holdId: 'short', bookingId: 'b1' }), 'HOLD_EXPIRED');
    checkAccounting(d.s);
  });
});

describe('confirm and pricing', () => {
  it('turns a hold into a booking with a price breakdown; the third ticket is half price', () => {
    const d = new CoreDriver();
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2', 'A-3', 'A-4'], customerId: 'c1' });
    const { booking } = d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1', paymentRef: 'pay-1' });
    assert.deepEqual(booking.seats, ['A-1', 'A-2', 'A-3', 'A-4']);
    assert.deepEqual(
      booking.lines.map((l) => l.price),
      [50000, 50000, 25000, 50000],
    );
    assert.equal(booking.total, 175000);
    assert.equal(booking.paymentRef, 'pay-1');
    assert.equal(booking.customerId, 'c1');
    assert.equal(d.statusOf('A-3'), SEAT_BOOKED);
    assert.equal(d.s.holds.size, 0);
    checkAccounting(d.s);
  });

  it('gives afternoon shows 20 % off, compounding with the third-ticket offer', () => {
    const d = new CoreDriver(showDef('matinee', 1, 5, { startsAt: '2026-12-01T14:00:00+05:30' }));
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2', 'A-3'] });
    const { booking } = d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' });
    assert.deepEqual(
      booking.lines.map((l) => l.price),
      [40000, 40000, 20000],
    );
    assert.deepEqual(
      booking.lines[2].discounts.map((x) => x.offer),
      ['afternoon', 'nthTicket'],
    );
  });

  it('uses the configurable window (end exclusive) and can switch offers off', () => {
    const at5 = new CoreDriver(showDef('five', 1, 5, { startsAt: '2026-12-01T17:00:00+05:30' }));
    at5.ok({ type: 'hold', holdId: 'h', seats: ['A-1'] });
    assert.equal(at5.ok({ type: 'confirm', holdId: 'h', bookingId: 'b' }).booking.total, 50000);
    const custom = showDef('late', 1, 5, { startsAt: '2026-12-01T17:30:00Z' });
    custom.offers = { nthTicket: null, afternoon: { from: '17:00', to: '18:00', percentOff: 10 } };
    const d = new CoreDriver(custom);
    d.ok({ type: 'hold', holdId: 'h', seats: ['A-1', 'A-2', 'A-3'] });
    assert.deepEqual(
      d.ok({ type: 'confirm', holdId: 'h', bookingId: 'b' }).booking.lines.map((l) => l.price),
      [45000, 45000, 45000],
    );
  });

  it('confirming twice answers with the same booking; bad confirms change nothing', () => {
    const d = new CoreDriver();
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'] });
    const first = d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' });
    const again = d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b2' });
    assert.equal(again.booking.bookingId, first.booking.bookingId);
    assert.equal(d.s.bookings.size, 1);
    assert.equal(d.fails({ type: 'confirm', holdId: 'nope', bookingId: 'b3' }), 'HOLD_NOT_FOUND');
    d.ok({ type: 'hold', holdId: 'h2', seats: ['A-2'], ttlSeconds: 5 });
    d.now += 5_000;
    assert.equal(d.fails({ type: 'confirm', holdId: 'h2', bookingId: 'b4' }), 'HOLD_EXPIRED');
    d.ok({ type: 'hold', holdId: 'h3', seats: ['A-3'] });
    d.ok({ type: 'release', holdId: 'h3' });
    assert.equal(d.fails({ type: 'confirm', holdId: 'h3', bookingId: 'b5' }), 'HOLD_NOT_FOUND');
  });
});

describe('cancelling bookings', () => {
  it('returns seats to sale, in bulk, with the refund due; repeat is harmless', () => {
    const d = new CoreDriver();
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'] });
    d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' });
    d.ok({ type: 'hold', holdId: 'h2', seats: ['A-2', 'A-3'] });
    d.ok({ type: 'confirm', holdId: 'h2', bookingId: 'b2' });
    const r = d.ok({ type: 'cancelBookings', bookingIds: ['b1', 'b2'] });
    assert.deepEqual(
      r.bookings.map((b) => [b.status, b.refundDue]),
      [
        ['cancelled', 50000],
        ['cancelled', 100000],
      ],
    );
    assert.equal(d.s.counts.booked, 0);
    const v = d.s.version;
    d.ok({ type: 'cancelBookings', bookingIds: ['b1'] });
    assert.equal(d.s.version, v);
    assert.equal(d.fails({ type: 'cancelBookings', bookingIds: ['b1', 'zzz'] }), 'BOOKING_NOT_FOUND');
    checkAccounting(d.s);
  });
});

describe('cancelling the show', () => {
  it('releases every hold, cancels every booking for refund, and refuses new holds', () => {
    const d = new CoreDriver();
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'] });
    d.ok({ type: 'hold', holdId: 'h2', seats: ['A-2'] });
    d.ok({ type: 'confirm', holdId: 'h2', bookingId: 'b2' });
    const v = d.s.version;
    const r = d.ok({ type: 'cancelShow', reason: 'storm' });
    assert.deepEqual(r.releasedHolds, ['h1']);
    assert.deepEqual(
      r.refunds.map((b) => [b.bookingId, b.cancelReason]),
      [['b2', 'show_cancelled']],
    );
    assert.equal(d.s.version, v + 3);
    assert.equal(d.s.counts.available, 20);
    assert.equal(d.fails({ type: 'hold', holdId: 'h3', seats: ['A-3'] }), 'SHOW_CANCELLED');
    assert.equal(d.fails({ type: 'changeShow', changes: { title: 'x' } }), 'SHOW_CANCELLED');
    assert.equal(d.ok({ type: 'cancelShow' }).refunds.length, 1);
    assert.equal(d.s.version, v + 3);
  });
});

describe('changing the show', () => {
  it('changes the time without touching seats', () => {
    const d = new CoreDriver();
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'] });
    d.ok({ type: 'changeShow', changes: { startsAt: '2026-12-02T20:00:00+05:30', title: 'Dune II' } });
    assert.equal(d.s.def.startsAt, '2026-12-02T20:00:00+05:30');
    assert.equal(d.statusOf('A-1'), SEAT_HELD);
  });

  it('releases holds and cancels bookings on seats that no longer exist, and remaps the rest', () => {
    const d = new CoreDriver(showDef('s', 2, 10));
    d.ok({ type: 'hold', holdId: 'gone', seats: ['B-9'] });
    d.ok({ type: 'hold', holdId: 'kept', seats: ['B-2'] });
    d.ok({ type: 'hold', holdId: 'bk', seats: ['A-10'] });
    d.ok({ type: 'confirm', holdId: 'bk', bookingId: 'b1' });
    const smaller = showDef('s', 2, 5).layout;
    smaller.sections[0].rows.unshift({ label: 'AA', seats: 2, category: 'gold' });
    const r = d.ok({ type: 'changeShow', changes: { layout: smaller } });
    assert.deepEqual(r.releasedHolds, ['gone']);
    assert.deepEqual(
      r.cancelledBookings.map((b) => [b.bookingId, b.cancelReason]),
      [['b1', 'layout_changed']],
    );
    assert.equal(d.s.seatStatus.length, 12);
    assert.equal(d.statusOf('B-2'), SEAT_HELD);
    assert.deepEqual(d.s.holds.get('kept')!.seats, [seatIndexOf(d.s.seatMap, 'B-2')]);
    assert.equal(d.s.layoutVersion, 2);
    d.ok({ type: 'release', holdId: 'kept' });
    assert.equal(d.statusOf('B-2'), SEAT_AVAILABLE);
    checkAccounting(d.s);
  });

  it('rejects a change that makes the definition inconsistent', () => {
    const d = new CoreDriver();
    assert.equal(
      d.fails({ type: 'changeShow', changes: { categories: [{ id: 'silver', price: 1, currency: 'INR' }] } }),
      'INVALID_ARGUMENT',
    );
  });
});

describe('blocking seats', () => {
  it('blocks available seats, refuses held ones, unblocks', () => {
    const d = new CoreDriver();
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'] });
    const r = d.run({ type: 'blockSeats', seats: ['A-1', 'A-2'] });
    assert.equal(r.error?.code, 'SEAT_UNAVAILABLE');
    assert.deepEqual(r.error?.details.seats, ['A-1']);
    d.ok({ type: 'blockSeats', seats: ['A-2', 'A-3'] });
    assert.equal(d.statusOf('A-2'), SEAT_BLOCKED);
    assert.equal(d.fails({ type: 'hold', holdId: 'h2', seats: ['A-2'] }), 'SEAT_UNAVAILABLE');
    d.ok({ type: 'unblockSeats', seats: ['A-2', 'A-4'] });
    assert.equal(d.statusOf('A-2'), SEAT_AVAILABLE);
    assert.equal(d.statusOf('A-3'), SEAT_BLOCKED);
    assert.equal(d.fails({ type: 'blockSeats', seats: ['Q-1'] }), 'INVALID_ARGUMENT');
    checkAccounting(d.s);
  });
});

describe('idempotency keys', () => {
  it('answers a retried command with its first reply and no new events', () => {
    const d = new CoreDriver();
    const first = d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'], idem: 'k1' });
    const v = d.s.version;
    const retry = d.ok({ type: 'hold', holdId: 'h-other', seats: ['A-1'], idem: 'k1' });
    assert.deepEqual(retry, first);
    assert.equal(d.s.version, v);
    assert.equal(d.fails({ type: 'release', holdId: 'h1', idem: 'k1' }), 'IDEMPOTENCY_MISMATCH');
    const c = d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1', idem: 'k2' });
    assert.deepEqual(d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b9', idem: 'k2' }), c);
  });
});
