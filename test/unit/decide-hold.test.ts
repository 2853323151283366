import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SEAT_AVAILABLE, SEAT_BLOCKED, SEAT_HELD } from '../../src/actors/types.ts';
import { checkAccounting, CoreDriver } from '../support/core.ts';
import { showDef } from '../../testkit/shows.ts';
import { seatIndexOf, labelOf } from '../../src/actors/seat-map.ts';

describe('createShow', () => {
  it('creates a show at version 1 with every seat available', () => {
    const d = new CoreDriver();
    assert.equal(d.s.version, 1);
    assert.equal(d.s.seatStatus.length, 20);
    assert.deepEqual(d.s.counts, { available: 20, held: 0, booked: 0, blocked: 0 });
    assert.equal(labelOf(d.s.seatMap, 0), 'A-1');
    assert.equal(labelOf(d.s.seatMap, 19), 'B-10');
  });

  it('prefixes labels with the section when there are several sections', () => {
    const def = showDef('s2');
    def.layout.sections.push({ id: 'balcony', rows: [{ label: 'A', seats: 3, category: 'gold' }] });
    const d = new CoreDriver(def);
    assert.ok(seatIndexOf(d.s.seatMap, 'main:A-1') !== undefined);
    assert.ok(seatIndexOf(d.s.seatMap, 'balcony:A-3') !== undefined);
  });

  it('blocks seats the theatre names at creation', () => {
    const d = new CoreDriver(showDef(), ['A-1', 'B-2']);
    assert.equal(d.statusOf('A-1'), SEAT_BLOCKED);
    assert.equal(d.s.counts.blocked, 2);
  });

  it('answers a repeated identical create as done, and a different one with SHOW_EXISTS', () => {
    const d = new CoreDriver();
    assert.equal(d.run({ type: 'createShow', def: showDef() }).error, undefined);
    assert.equal(d.s.version, 1);
    assert.equal(d.fails({ type: 'createShow', def: showDef('s1', 3) }), 'SHOW_EXISTS');
  });

  it('rejects inconsistent definitions with INVALID_ARGUMENT', () => {
    const bad = [
      showDef('x', 1, 1, { categories: [] }),
      showDef('x', 1, 1, {
        categories: [
          { id: 'gold', price: 1, currency: 'INR' },
          { id: 'gold', price: 2, currency: 'INR' },
        ],
      }),
      showDef('x', 1, 1, {
        categories: [
          { id: 'gold', price: 1, currency: 'INR' },
          { id: 'silver', price: 2, currency: 'USD' },
        ],
      }),
      showDef('x', 1, 0),
      showDef('x', 1, 1, { startsAt: 'not a date' }),
      showDef('x', 1, 1, { limits: { maxSeatsPerHold: 10, holdTtlSeconds: 900, maxHoldSeconds: 600 } }),
    ];
    bad[3].layout.sections[0].rows[0].category = 'gold';
    for (const def of bad) assert.equal(new CoreDriver(null).fails({ type: 'createShow', def }), 'INVALID_ARGUMENT');
    const unknownCategory = showDef('x');
    unknownCategory.layout.sections[0].rows[0].category = 'platinum';
    assert.equal(new CoreDriver(null).fails({ type: 'createShow', def: unknownCategory }), 'INVALID_ARGUMENT');
    assert.equal(new CoreDriver(null).fails({ type: 'createShow', def: showDef(), blockedSeats: ['Z-9'] }), 'INVALID_ARGUMENT');
  });
});

describe('hold', () => {
  it('holds explicit seats and bumps the version once', () => {
    const d = new CoreDriver();
    const r = d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2'] });
    assert.deepEqual(r.hold.seats, ['A-1', 'A-2']);
    assert.equal(Date.parse(r.hold.expiresAt) - d.now, 600_000);
    assert.equal(d.s.version, 2);
    assert.equal(d.statusOf('A-1'), SEAT_HELD);
    checkAccounting(d.s);
  });

  it('is all-or-nothing and names every seat that was taken', () => {
    const d = new CoreDriver();
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1', 'A-3'] });
    const r = d.run({ type: 'hold', holdId: 'h2', seats: ['A-1', 'A-2', 'A-3'] });
    assert.equal(r.error?.code, 'SEAT_UNAVAILABLE');
    assert.deepEqual(r.error?.details.seats, ['A-1', 'A-3']);
    assert.equal(d.statusOf('A-2'), SEAT_AVAILABLE);
  });

  it('refuses bad requests without changing anything', () => {
    const d = new CoreDriver(showDef(), ['B-1']);
    d.ok({ type: 'hold', holdId: 'h0', seats: ['A-9'] });
    assert.equal(d.fails({ type: 'hold', holdId: 'h1', seats: ['Z-1'] }), 'INVALID_ARGUMENT');
    assert.equal(d.fails({ type: 'hold', holdId: 'h1', seats: ['A-1', 'A-1'] }), 'INVALID_ARGUMENT');
    assert.equal(d.fails({ type: 'hold', holdId: 'h1', seats: ['A-1'], count: 1 }), 'INVALID_ARGUMENT');
    assert.equal(d.fails({ type: 'hold', holdId: 'h1' }), 'INVALID_ARGUMENT');
    assert.equal(d.fails({ type: 'hold', holdId: 'h1', count: 0 }), 'INVALID_ARGUMENT');
    assert.equal(d.fails({ type: 'hold', holdId: 'h1', count: -2 }), 'INVALID_ARGUMENT');
    assert.equal(d.fails({ type: 'hold', holdId: 'h1', count: 1.5 }), 'INVALID_ARGUMENT');
    assert.equal(d.fails({ type: 'hold', holdId: 'h1', seats: [] }), 'INVALID_ARGUMENT');
    assert.equal(d.fails({ type: 'hold', holdId: 'h1', count: 11 }), 'HOLD_LIMIT_EXCEEDED');
    assert.equal(d.fails({ type: 'hold', holdId: 'h1', count: 1e9 }), 'HOLD_LIMIT_EXCEEDED');
    assert.equal(d.fails({ type: 'hold', holdId: 'h1', count: 2, category: 'platinum' }), 'INVALID_ARGUMENT');
    assert.equal(d.fails({ type: 'hold', holdId: 'h1', seats: ['A-1'], ttlSeconds: 0 }), 'INVALID_ARGUMENT');
    assert.equal(d.fails({ type: 'hold', holdId: 'h1', seats: ['A-1'], ttlSeconds: 1801 }), 'INVALID_ARGUMENT');
    assert.equal(d.fails({ type: 'hold', holdId: 'h1', seats: ['B-1'] }), 'SEAT_UNAVAILABLE');
    assert.equal(d.fails({ type: 'hold', holdId: 'h0', seats: ['A-2'] }), 'INVALID_ARGUMENT');
    assert.equal(new CoreDriver(null).fails({ type: 'hold', holdId: 'h1', count: 1 }), 'SHOW_NOT_FOUND');
  });

  it('honours a per-show seat limit for bulk holds', () => {
    const d = new CoreDriver(showDef('big', 4, 50, { limits: { maxSeatsPerHold: 100, holdTtlSeconds: 600, maxHoldSeconds: 1800 } }));
    const seats = Array.from({ length: 100 }, (_, i) => `${'ABCD'[Math.floor(i / 50)]}-${(i % 50) + 1}`);
    assert.equal(d.ok({ type: 'hold', holdId: 'bulk', seats }).hold.seats.length, 100);
    assert.equal(d.s.counts.held, 100);
  });
});

describe('best available', () => {
  it('holds seats together in one row, nearest the front, centred', () => {
    const d = new CoreDriver();
    const r = d.ok({ type: 'hold', holdId: 'h1', count: 4 });
    assert.deepEqual(r.hold.seats, ['A-4', 'A-5', 'A-6', 'A-7']);
  });

  it('never leaves a single orphan seat when another choice exists', () => {
    const d = new CoreDriver(showDef('o', 2, 6));
    // Row A: seats 1 and 6 taken, 2..5 free (4 seats). Row B all free.
    d.ok({ type: 'hold', holdId: 'x', seats: ['A-1', 'A-6'] });
    // Three seats in row A would leave one orphan; row B's centre placement leaves none.
    const r = d.ok({ type: 'hold', holdId: 'h1', count: 3 });
    const seats = r.hold.seats;
    const row = seats[0][0];
    assert.ok(
      seats.every((s) => s[0] === row),
      'seats in one row',
    );
    const numbers = seats.map((s) => Number(s.slice(2)));
    assert.deepEqual(numbers, [numbers[0], numbers[0] + 1, numbers[0] + 2], 'seats side by side');
    // No free seat left alone between taken seats or a row end in the chosen row.
    const statuses = Array.from({ length: 6 }, (_, i) => d.statusOf(`${row}-${i + 1}`));
    for (let i = 0; i < 6; i++) {
      if (statuses[i] !== SEAT_AVAILABLE) continue;
      const leftTaken = i === 0 || statuses[i - 1] !== SEAT_AVAILABLE;
      const rightTaken = i === 5 || statuses[i + 1] !== SEAT_AVAILABLE;
      assert.ok(!(leftTaken && rightTaken), `orphan at ${row}-${i + 1}`);
    }
  });

  it('takes an orphaning placement only when nothing else fits', () => {
    const d = new CoreDriver(showDef('o', 1, 4));
    const r = d.ok({ type: 'hold', holdId: 'h1', count: 3 });
    assert.equal(r.hold.seats.length, 3);
  });

  it('filters by category and answers SEAT_UNAVAILABLE when no run is long enough', () => {
    const def = showDef('c', 2, 5, {
      categories: [
        { id: 'gold', price: 500, currency: 'INR' },
        { id: 'silver', price: 300, currency: 'INR' },
      ],
    });
    def.layout.sections[0].rows[1].category = 'silver';
    const d = new CoreDriver(def);
    assert.deepEqual(
      d.ok({ type: 'hold', holdId: 'h1', count: 2, category: 'silver' }).hold.seats.map((s) => s[0]),
      ['B', 'B'],
    );
    d.ok({ type: 'hold', holdId: 'h2', seats: ['A-3'] });
    assert.equal(d.fails({ type: 'hold', holdId: 'h3', count: 3, category: 'gold' }), 'SEAT_UNAVAILABLE');
  });
});
