import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { showReport } from '../../src/actors/report.ts';
import type { ShowState } from '../../src/actors/show-state.ts';
import { deserializeState, serializeState } from '../../src/actors/state-codec.ts';
import type { ShowDefinition } from '../../src/actors/types.ts';
import { CoreDriver, checkAccounting } from '../support/core.ts';
import { showDef } from '../../testkit/shows.ts';

/** Two sections, two categories: main rows A, B gold (5 seats each), balcony row C silver (4 seats). */
function twoSections(): ShowDefinition {
  return showDef('rep', 2, 5, {
    categories: [
      { id: 'gold', price: 50000, currency: 'INR' },
      { id: 'silver', price: 20000, currency: 'INR' },
    ],
    layout: {
      sections: [
        {
          id: 'main',
          rows: [
            { label: 'A', seats: 5, category: 'gold' },
            { label: 'B', seats: 5, category: 'gold' },
          ],
        },
        { id: 'balcony', rows: [{ label: 'C', seats: 4, category: 'silver' }] },
      ],
    },
  });
}

function restored(s: ShowState): ShowState {
  return deserializeState(JSON.parse(JSON.stringify(serializeState(s))));
}

/** The report equals the one a snapshot of this state rebuilds, and every counter checks out. */
function checked(d: CoreDriver) {
  checkAccounting(d.s);
  const r = showReport(d.s);
  const again = restored(d.s);
  checkAccounting(again);
  assert.deepEqual(showReport(again), r);
  return r;
}

const zero = { available: 0, held: 0, booked: 0, blocked: 0 };

describe('show report', () => {
  it('counts seats per category and section, and sales across holds, confirms and cancels', () => {
    const d = new CoreDriver(twoSections(), ['balcony:C-4']);
    let r = checked(d);
    assert.deepEqual(r.seats, { ...zero, available: 13, blocked: 1 });
    assert.deepEqual(r.categories, {
      gold: { ...zero, available: 10, price: 50000 },
      silver: { ...zero, available: 3, blocked: 1, price: 20000 },
    });
    assert.deepEqual(r.sections, { main: { ...zero, available: 10 }, balcony: { ...zero, available: 3, blocked: 1 } });
    assert.deepEqual(r.sales, { bookings: 0, seats: 0, gross: 0, refunded: 0, net: 0, currency: 'INR' });

    const h1 = d.ok({ type: 'hold', holdId: 'h1', seats: ['main:A-1', 'main:A-2', 'balcony:C-1'] });
    r = checked(d);
    assert.deepEqual(r.categories.gold, { ...zero, available: 8, held: 2, price: 50000 });
    assert.deepEqual(r.sections.balcony, { ...zero, available: 2, held: 1, blocked: 1 });

    const b1 = d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' }).booking;
    assert.equal(b1.total, h1.hold.price.total);
    d.ok({ type: 'hold', holdId: 'h2', seats: ['main:B-1'] });
    const b2 = d.ok({ type: 'confirm', holdId: 'h2', bookingId: 'b2' }).booking;
    d.ok({ type: 'hold', holdId: 'h3', seats: ['main:B-2'] });
    d.ok({ type: 'release', holdId: 'h3' });
    d.ok({ type: 'hold', holdId: 'h4', seats: ['main:B-3'] });
    d.now += 3_600_000;
    d.ok({ type: 'expireHolds', holdIds: ['h4'] });
    r = checked(d);
    assert.deepEqual(r.seats, { ...zero, available: 9, booked: 4, blocked: 1 });
    assert.deepEqual(r.sales, {
      bookings: 2,
      seats: 4,
      gross: b1.total + b2.total,
      refunded: 0,
      net: b1.total + b2.total,
      currency: 'INR',
    });

    d.ok({ type: 'cancelBookings', bookingIds: ['b2'] });
    r = checked(d);
    assert.deepEqual(r.sales, { bookings: 1, seats: 3, gross: b1.total + b2.total, refunded: b2.total, net: b1.total, currency: 'INR' });
    assert.deepEqual(r.sections.main, { ...zero, available: 8, booked: 2 });

    d.ok({ type: 'unblockSeats', seats: ['balcony:C-4'] });
    d.ok({ type: 'blockSeats', seats: ['main:B-5'] });
    r = checked(d);
    assert.deepEqual(r.categories.silver, { ...zero, available: 3, booked: 1, price: 20000 });
    assert.deepEqual(r.categories.gold, { ...zero, available: 7, booked: 2, blocked: 1, price: 50000 });
  });

  it('follows price and layout changes: new prices, new rows, removed seats cancel for refund', () => {
    const d = new CoreDriver(twoSections());
    d.ok({ type: 'hold', holdId: 'h1', seats: ['balcony:C-4'] });
    const b1 = d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' }).booking;
    d.ok({ type: 'hold', holdId: 'h2', seats: ['main:A-1'] });
    const b2 = d.ok({ type: 'confirm', holdId: 'h2', bookingId: 'b2' }).booking;
    d.ok({ type: 'hold', holdId: 'h3', seats: ['balcony:C-3'] });
    // Silver dearer, a new gold row D in main, the balcony row shortened to 2 seats (C-3 and C-4 go).
    const def = twoSections();
    const changed = d.ok({
      type: 'changeShow',
      changes: {
        categories: [def.categories[0], { ...def.categories[1], price: 30000 }],
        layout: {
          sections: [
            { id: 'main', rows: [...def.layout.sections[0].rows, { label: 'D', seats: 6, category: 'gold' }] },
            { id: 'balcony', rows: [{ label: 'C', seats: 2, category: 'silver' }] },
          ],
        },
      },
    });
    assert.deepEqual(
      changed.cancelledBookings.map((b) => b.bookingId),
      ['b1'],
    );
    const r = checked(d);
    assert.equal(d.s.seatStatus.length, 18);
    assert.deepEqual(r.categories, {
      gold: { ...zero, available: 15, booked: 1, price: 50000 },
      silver: { ...zero, available: 2, price: 30000 },
    });
    assert.deepEqual(r.sections, { main: { ...zero, available: 15, booked: 1 }, balcony: { ...zero, available: 2 } });
    assert.deepEqual(r.sales, { bookings: 1, seats: 1, gross: b1.total + b2.total, refunded: b1.total, net: b2.total, currency: 'INR' });
  });

  it('keeps its sales when cancelled bookings are forgotten, and a snapshot without them rebuilds the same report', () => {
    const d = new CoreDriver(twoSections());
    d.ok({ type: 'hold', holdId: 'h1', seats: ['main:A-1', 'main:A-2'] });
    const b1 = d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' }).booking;
    d.ok({ type: 'hold', holdId: 'h2', seats: ['balcony:C-1'] });
    const b2 = d.ok({ type: 'confirm', holdId: 'h2', bookingId: 'b2' }).booking;
    d.ok({ type: 'cancelBookings', bookingIds: ['b1'] });
    const before = checked(d);
    const snapshotBefore = restored(d.s);

    d.ok({ type: 'forgetEnded', bookingIds: ['b1'], holdIds: ['h1'] });
    assert.equal(d.s.bookings.has('b1'), false);
    const after = checked(d);
    assert.deepEqual({ ...after, version: before.version }, before);
    assert.deepEqual(after.sales, {
      bookings: 1,
      seats: 1,
      gross: b1.total + b2.total,
      refunded: b1.total,
      net: b2.total,
      currency: 'INR',
    });

    const snapshot = serializeState(d.s);
    assert.equal(
      snapshot.bookings.some(([id]) => id === 'b1'),
      false,
    );
    assert.deepEqual(snapshot.forgottenSales, { gross: b1.total, refunded: b1.total });
    assert.deepEqual(showReport(deserializeState(JSON.parse(JSON.stringify(snapshot)))), after);

    // The same forgetting replayed on the older snapshot (a replica, a recovery) agrees.
    d.state = snapshotBefore;
    d.ok({ type: 'forgetEnded', bookingIds: ['b1'], holdIds: ['h1'] });
    assert.deepEqual(showReport(d.s), after);

    // More business after forgetting keeps adding up, before and after another snapshot.
    d.ok({ type: 'cancelBookings', bookingIds: ['b2'] });
    d.ok({ type: 'forgetEnded', bookingIds: ['b2'], holdIds: [] });
    const last = checked(d);
    assert.deepEqual(last.sales, {
      bookings: 0,
      seats: 0,
      gross: b1.total + b2.total,
      refunded: b1.total + b2.total,
      net: 0,
      currency: 'INR',
    });
    assert.deepEqual(last.seats, { ...zero, available: 14 });
  });

  it('a cancelled show refunds every booking', () => {
    const d = new CoreDriver(twoSections());
    d.ok({ type: 'hold', holdId: 'h1', seats: ['main:A-1'] });
    const b1 = d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' }).booking;
    d.ok({ type: 'hold', holdId: 'h2', seats: ['main:A-2'] });
    d.ok({ type: 'cancelShow' });
    const r = checked(d);
    assert.deepEqual(r.sales, { bookings: 0, seats: 0, gross: b1.total, refunded: b1.total, net: 0, currency: 'INR' });
  });

  it('refunded counts what each cancellation refunded: a partial admin refund keeps the rest in net', () => {
    const d = new CoreDriver(twoSections());
    d.ok({ type: 'hold', holdId: 'h1', seats: ['main:A-1', 'main:A-2'] });
    const b1 = d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' }).booking;
    const [cancelled] = d.ok({ type: 'cancelBookings', bookingIds: ['b1'], refundPercent: 25 }).bookings;
    assert.equal(cancelled.refundDue, Math.round(b1.total / 4));
    const r = checked(d);
    assert.deepEqual(r.sales, {
      bookings: 0,
      seats: 0,
      gross: b1.total,
      refunded: cancelled.refundDue,
      net: b1.total - (cancelled.refundDue ?? 0),
      currency: 'INR',
    });
    assert.deepEqual(showReport(restored(d.s)).sales, r.sales);
  });
});
