import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holdReply } from '../../src/actors/views.ts';
import { CoreDriver, checkAccounting } from '../support/core.ts';
import { showDef } from '../../testkit/shows.ts';

/** Row A gold 50,000, row B silver 20,000; the 3rd ticket half price; 19:30 (no afternoon offer). */
function twoCategoryShow(startsAt = '2026-12-01T19:30:00+05:30'): CoreDriver {
  const def = showDef('q', 2, 10, { startsAt });
  def.categories = [
    { id: 'gold', price: 50_000, currency: 'INR' },
    { id: 'silver', price: 20_000, currency: 'INR' },
  ];
  def.layout.sections[0].rows[1].category = 'silver';
  def.offers = { nthTicket: { n: 3, percentOff: 50 }, afternoon: { from: '12:00', to: '17:00', percentOff: 20 } };
  return new CoreDriver(def);
}

const heldTotal = (d: CoreDriver, holdId: string) => holdReply(d.s, d.s.holds.get(holdId)!).price.total;

describe('the quoted price is the booked price', () => {
  it('a price rise after the hold books the quote; new holds pay the new price', () => {
    const d = twoCategoryShow();
    const quoted = d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2'] }).hold.price;
    assert.equal(quoted.total, 100_000);
    d.ok({
      type: 'changeShow',
      changes: {
        categories: [
          { id: 'gold', price: 60_000, currency: 'INR' },
          { id: 'silver', price: 20_000, currency: 'INR' },
        ],
      },
    });
    assert.equal(heldTotal(d, 'h1'), 100_000);
    assert.equal(d.ok({ type: 'hold', holdId: 'h2', seats: ['A-3', 'A-4'] }).hold.price.total, 120_000);
    const booking = d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' }).booking;
    assert.equal(booking.total, 100_000);
    assert.deepEqual(booking.lines, quoted.lines);
    checkAccounting(d.s);
  });

  it('moving an afternoon show to the evening keeps the afternoon quote of existing holds', () => {
    const d = twoCategoryShow('2026-12-01T14:00:00+05:30');
    assert.equal(d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2'] }).hold.price.total, 80_000);
    d.ok({ type: 'changeShow', changes: { startsAt: '2026-12-01T19:30:00+05:30' } });
    assert.equal(d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' }).booking.total, 80_000);
    assert.equal(d.ok({ type: 'hold', holdId: 'h2', seats: ['A-3', 'A-4'] }).hold.price.total, 100_000);
  });

  it('a confirm naming another total is refused with PRICE_CHANGED and books nothing', () => {
    const d = twoCategoryShow();
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'] });
    assert.equal(d.fails({ type: 'confirm', holdId: 'h1', bookingId: 'b1', expectedTotal: 49_999 }), 'PRICE_CHANGED');
    assert.equal(d.s.holds.has('h1'), true);
    assert.equal(d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1', expectedTotal: 50_000 }).booking.total, 50_000);
  });

  it('the 3rd ticket is the 3rd seat in layout order, whatever order the seats were asked in', () => {
    const d = twoCategoryShow();
    const a = d.ok({ type: 'hold', holdId: 'h1', seats: ['B-1', 'B-2', 'A-5'] }).hold;
    const b = d.ok({ type: 'hold', holdId: 'h2', seats: ['A-6', 'B-3', 'B-4'] }).hold;
    // A-5 gold, B-1 silver, B-2 silver at half price: 50,000 + 20,000 + 10,000.
    assert.equal(a.price.total, 80_000);
    assert.equal(b.price.total, 80_000);
    assert.deepEqual(a.seats, ['A-5', 'B-1', 'B-2']);
    assert.deepEqual(
      a.price.lines.map((l) => [l.seat, l.price]),
      [
        ['A-5', 50_000],
        ['B-1', 20_000],
        ['B-2', 10_000],
      ],
    );
    assert.equal(
      a.price.total,
      a.price.lines.reduce((sum, l) => sum + l.price, 0),
    );
    const booking = d.ok({ type: 'confirm', holdId: 'h1', bookingId: 'b1' }).booking;
    assert.deepEqual(booking.seats, ['A-5', 'B-1', 'B-2']);
    assert.deepEqual(
      booking.lines.map((l) => l.seat),
      booking.seats,
    );
  });

  it('each line rounds its own discounts, halves up, and the total is the sum of the lines', () => {
    const d = twoCategoryShow('2026-12-01T14:00:00+05:30');
    d.ok({
      type: 'changeShow',
      changes: {
        categories: [
          { id: 'gold', price: 333, currency: 'INR' },
          { id: 'silver', price: 101, currency: 'INR' },
        ],
      },
    });
    const quote = d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2', 'A-3'] }).hold.price;
    // 333 - 20 % (66.6 → 67) = 266; the 3rd: 266 - 50 % (133) = 133.
    assert.deepEqual(
      quote.lines.map((l) => l.price),
      [266, 266, 133],
    );
    assert.deepEqual(quote.lines[2].discounts, [
      { offer: 'afternoon', amount: 67 },
      { offer: 'nthTicket', amount: 133 },
    ]);
    assert.equal(quote.total, 665);
  });
});
