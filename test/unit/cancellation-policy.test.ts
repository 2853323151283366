import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { customerRefundPercent, refundAmount } from '../../src/actors/cancellation-policy.ts';
import { decide } from '../../src/actors/decide.ts';
import { evolveAll } from '../../src/actors/evolve.ts';
import type { CancellationRule, ShowEvent } from '../../src/actors/types.ts';
import { bookingView, showHead } from '../../src/actors/views.ts';
import { outEventsOf, type BookingCancelledOut } from '../../src/projections/out-events.ts';
import { createSeatNode } from '../../src/node.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { HoldTokens } from '../../src/service/hold-tokens.ts';
import pino from 'pino';
import { CoreDriver, checkAccounting } from '../support/core.ts';
import { showDef } from '../../testkit/shows.ts';

const HOUR = 3_600_000;
/** showDef's start: 2026-12-01T19:30:00+05:30. */
const START = Date.parse('2026-12-01T14:00:00Z');
const TIERED: CancellationRule[] = [
  { hoursBeforeStart: 2, refundPercent: 10 },
  { hoursBeforeStart: 48, refundPercent: 100 },
  { hoursBeforeStart: 24, refundPercent: 50 },
];

/** A show with one confirmed booking `b1` of seats A-1, A-2 (gold 50,000 each: total 100,000). */
function booked(policy?: CancellationRule[]): CoreDriver {
  const d = new CoreDriver(showDef('p', 2, 10, policy ? { cancellationPolicy: policy } : {}));
  d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2'] });
  d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' });
  return d;
}

/** The customer cancels b1 at `at`; returns the booking answered. */
function customerCancelAt(d: CoreDriver, at: number) {
  d.now = at;
  const [view] = d.ok({ type: 'cancelBookings', bookingIds: ['b1'], byCustomer: true }).bookings;
  return view;
}

describe('the cancellation policy', () => {
  it('applies the rule with the highest hoursBeforeStart not above the hours left, whatever order the rules were given in', () => {
    const def = { startsAt: showDef().startsAt, cancellationPolicy: TIERED };
    assert.equal(customerRefundPercent(def, START - 72 * HOUR), 100);
    assert.equal(customerRefundPercent(def, START - 30 * HOUR), 50);
    assert.equal(customerRefundPercent(def, START - 3 * HOUR), 10);
    assert.equal(customerRefundPercent(def, START - 1 * HOUR), null);
  });

  it('a rule applies when the hours left equal its hoursBeforeStart exactly, and not a millisecond later', () => {
    const def = { startsAt: showDef().startsAt, cancellationPolicy: TIERED };
    assert.equal(customerRefundPercent(def, START - 48 * HOUR), 100);
    assert.equal(customerRefundPercent(def, START - 48 * HOUR + 1), 50);
    assert.equal(customerRefundPercent(def, START - 24 * HOUR), 50);
    assert.equal(customerRefundPercent(def, START - 2 * HOUR), 10);
    assert.equal(customerRefundPercent(def, START - 2 * HOUR + 1), null);
  });

  it('the default refunds in full until the start (the start itself included) and closes after it', () => {
    const def = { startsAt: showDef().startsAt };
    assert.equal(customerRefundPercent(def, START - 1), 100);
    assert.equal(customerRefundPercent(def, START), 100);
    assert.equal(customerRefundPercent(def, START + 1), null);
  });

  it('an empty policy lets no customer cancel', () => {
    assert.equal(customerRefundPercent({ startsAt: showDef().startsAt, cancellationPolicy: [] }, START - 1000 * HOUR), null);
  });

  it('rounds the refund to the nearest minor unit, halves up, in integers', () => {
    assert.equal(refundAmount(100_000, 50), 50_000);
    assert.equal(refundAmount(333, 50), 167); // 166.5
    assert.equal(refundAmount(333, 33), 110); // 109.89
    assert.equal(refundAmount(333, 1), 3); // 3.33
    assert.equal(refundAmount(333, 0), 0);
    assert.equal(refundAmount(333, 100), 333);
    assert.equal(refundAmount(2 ** 52, 50), 2 ** 51);
    assert.equal(refundAmount(Number.MAX_SAFE_INTEGER, 100), Number.MAX_SAFE_INTEGER);
  });
});

describe('cancelling a booking', () => {
  it('by its customer: the policy sets refundDue, the seats go back on sale', () => {
    const d = booked(TIERED);
    const view = customerCancelAt(d, START - 30 * HOUR);
    assert.equal(view.status, 'cancelled');
    assert.equal(view.cancelReason, 'cancelled');
    assert.equal(view.refundDue, 50_000);
    assert.equal(view.refundPercent, 50);
    assert.equal(d.statusOf('A-1'), 0);
    assert.deepEqual(bookingView(d.s, d.s.bookings.get('b1')!), view);
    checkAccounting(d.s);
  });

  it('by its customer at exactly 48 hours before: the 48-hour rule (full refund)', () => {
    assert.equal(customerCancelAt(booked(TIERED), START - 48 * HOUR).refundDue, 100_000);
  });

  it('by its customer once no rule applies: CANCELLATION_CLOSED, nothing changes', () => {
    const d = booked(TIERED);
    d.now = START - HOUR;
    assert.equal(d.fails({ type: 'cancelBookings', bookingIds: ['b1'], byCustomer: true }), 'CANCELLATION_CLOSED');
    assert.equal(d.s.bookings.get('b1')!.status, 'confirmed');
    assert.equal(d.statusOf('A-1'), 2);
  });

  it('by its customer after the start under the default policy: CANCELLATION_CLOSED; until the start: full refund', () => {
    const late = booked();
    late.now = START + 1;
    assert.equal(late.fails({ type: 'cancelBookings', bookingIds: ['b1'], byCustomer: true }), 'CANCELLATION_CLOSED');
    assert.equal(customerCancelAt(booked(), START).refundDue, 100_000);
  });

  it('by its customer twice: the second answers the cancelled booking and changes nothing; so does a late one', () => {
    const d = booked(TIERED);
    const first = customerCancelAt(d, START - 30 * HOUR);
    const version = d.s.version;
    d.now = START + HOUR; // closed now, but the booking is already cancelled
    const again = d.ok({ type: 'cancelBookings', bookingIds: ['b1'], byCustomer: true }).bookings[0];
    assert.deepEqual(again, first);
    assert.equal(d.s.version, version);
  });

  it('by a customer: one booking at a time', () => {
    const d = booked();
    d.ok({ type: 'hold', holdId: 'h2', seats: ['B-1'] });
    d.ok({ type: 'confirm', holdId: 'h2', bookingId: 'b2' });
    assert.equal(d.fails({ type: 'cancelBookings', bookingIds: ['b1', 'b2'], byCustomer: true }), 'INVALID_ARGUMENT');
  });

  it('by the admin: a full refund by default, or the percent named, whatever the policy says', () => {
    const d = booked([]);
    d.now = START + HOUR;
    assert.equal(d.ok({ type: 'cancelBookings', bookingIds: ['b1'] }).bookings[0].refundDue, 100_000);
    const e = booked([]);
    const view = e.ok({ type: 'cancelBookings', bookingIds: ['b1'], refundPercent: 30 }).bookings[0];
    assert.equal(view.refundDue, 30_000);
    assert.equal(view.refundPercent, 30);
  });

  it('by the admin with a percent outside 0-100 or not whole: INVALID_ARGUMENT', () => {
    const d = booked();
    assert.equal(d.fails({ type: 'cancelBookings', bookingIds: ['b1'], refundPercent: 101 }), 'INVALID_ARGUMENT');
    assert.equal(d.fails({ type: 'cancelBookings', bookingIds: ['b1'], refundPercent: 12.5 }), 'INVALID_ARGUMENT');
  });

  it('a show cancellation still refunds in full', () => {
    const d = booked(TIERED);
    d.now = START - HOUR;
    assert.equal(d.ok({ type: 'cancelShow' }).refunds[0].refundDue, 100_000);
  });

  it('records the refund in the event: a replay and the out-event agree with the owner', () => {
    const d = booked(TIERED);
    const before = structuredClone(d.s.bookings.get('b1')!);
    const decision = decide(d.s, { type: 'cancelBookings', bookingIds: ['b1'], byCustomer: true }, START - 30 * HOUR);
    assert.ok(decision.ok);
    const cancel = decision.events[0] as Extract<ShowEvent, { type: 'BookingCancelled' }>;
    assert.equal(cancel.refundDue, 50_000);
    assert.equal(cancel.refundPercent, 50);
    // Another copy of the show (replica, recovery) applies the same events: the same refund.
    const replica = booked(TIERED);
    const owner = evolveAll(d.s, decision.events)!;
    const copy = evolveAll(replica.s, decision.events)!;
    assert.deepEqual(bookingView(copy, copy.bookings.get('b1')!), bookingView(owner, owner.bookings.get('b1')!));
    assert.equal(before.refundDue, undefined);
    const out = outEventsOf({ showId: 'p', seq: 4, firstVersion: owner.version, events: decision.events, state: owner });
    const message = out.find((m) => (m.event as { type: string }).type === 'BookingCancelled');
    assert.ok(message);
    const booking = (message.event as BookingCancelledOut).booking;
    assert.equal(booking.refundDue, 50_000);
    assert.equal(booking.refundPercent, 50);
  });

  it('a BookingCancelled from an older log (no refund recorded) refunds the whole total', () => {
    const d = booked();
    const s = evolveAll(d.s, [{ type: 'BookingCancelled', bookingId: 'b1', reason: 'cancelled', at: d.now }])!;
    assert.equal(bookingView(s, s.bookings.get('b1')!).refundDue, 100_000);
  });

  it('the show view spells out the policy in force, the default included', () => {
    assert.deepEqual(showHead(booked().s).cancellationPolicy, [{ hoursBeforeStart: 0, refundPercent: 100 }]);
    assert.deepEqual(showHead(booked(TIERED).s).cancellationPolicy, TIERED);
  });

  it('a policy change applies to cancellations after it', () => {
    const d = booked();
    d.ok({ type: 'changeShow', changes: { cancellationPolicy: [{ hoursBeforeStart: 0, refundPercent: 40 }] } });
    assert.equal(customerCancelAt(d, START - HOUR).refundDue, 40_000);
  });
});

describe('booking tokens', () => {
  const tokens = new HoldTokens('s'.repeat(32));

  it('verify only for their own show and booking, and never pass for a hold token', () => {
    const token = tokens.issueBooking('show-1', 'b_1');
    assert.equal(tokens.verifyBooking('show-1', 'b_1', token), true);
    assert.equal(tokens.verifyBooking('show-1', 'b_2', token), false);
    assert.equal(tokens.verifyBooking('show-2', 'b_1', token), false);
    assert.equal(tokens.verifyBooking('show-1', 'b_1', `${token}x`), false);
    assert.equal(tokens.verifyBooking('show-1', 'b_1', ''), false);
    assert.notEqual(token, tokens.issue('show-1', 'b_1'));
    assert.equal(tokens.verify('show-1', 'b_1', token), false);
  });

  it('are the same on every node sharing the secret, and differ under another secret', () => {
    assert.equal(new HoldTokens('s'.repeat(32)).issueBooking('a', 'b'), tokens.issueBooking('a', 'b'));
    assert.notEqual(new HoldTokens('t'.repeat(32)).issueBooking('a', 'b'), tokens.issueBooking('a', 'b'));
  });
});

describe('the service checks booking tokens before the show sees anything', () => {
  const logger = pino({ level: 'silent' });

  it('a wrong token is FORBIDDEN for the read and the cancel, and changes nothing; the right one works, the same on a retried confirm', async () => {
    const n = createSeatNode(
      { holdTokenSecret: 'k'.repeat(32), snapshotEveryEvents: 100, snapshotEveryMs: 60_000 },
      openMemoryStorage(logger),
      logger,
    );
    try {
      const { limits: _l, offers: _o, ...def } = showDef('svc', 1, 10, { startsAt: new Date(Date.now() + 10 * HOUR).toISOString() });
      await n.service.createShow(def);
      const hold = await n.service.hold('svc', { seats: ['A-1'] });
      const booking = await n.service.confirm('svc', hold.holdId, hold.holdToken, {});
      const again = await n.service.confirm('svc', hold.holdId, hold.holdToken, {});
      assert.equal(again.bookingToken, booking.bookingToken);
      const version = await n.host.read('svc', (s) => s.version);
      for (const wrong of ['', 'x', n.tokens.issue('svc', booking.bookingId), n.tokens.issueBooking('other', booking.bookingId)]) {
        await assert.rejects(n.service.getBooking('svc', booking.bookingId, wrong), { code: 'FORBIDDEN' });
        await assert.rejects(n.service.cancelOwnBooking('svc', booking.bookingId, wrong), { code: 'FORBIDDEN' });
      }
      assert.equal(await n.host.read('svc', (s) => s.version), version);
      assert.equal((await n.service.getBooking('svc', booking.bookingId)).status, 'confirmed');
      const cancelled = await n.service.cancelOwnBooking('svc', booking.bookingId, booking.bookingToken);
      assert.equal(cancelled.refundDue, booking.total);
      assert.equal((await n.service.getBooking('svc', booking.bookingId, booking.bookingToken)).status, 'cancelled');
    } finally {
      await n.close();
    }
  });
});
