/**
 * A seat's id never changes once the show exists: layout changes keep the ids of seats that
 * are still there (and their holds and bookings), and only seats that disappear end theirs,
 * with a reason and a refund. Shows from before the rule was written down keep their ids.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evolveAll } from '../../src/actors/evolve.ts';
import { labelOf, seatIndexOf, seatLabels } from '../../src/actors/seat-map.ts';
import { deserializeState, serializeState } from '../../src/actors/state-codec.ts';
import {
  SEAT_AVAILABLE,
  SEAT_BOOKED,
  SEAT_HELD,
  type Layout,
  type RowDefinition,
  type ShowDefinition,
  type ShowEvent,
} from '../../src/actors/types.ts';
import { showView } from '../../src/actors/views.ts';
import { checkAccounting, CoreDriver } from '../support/core.ts';
import { showDef } from '../../testkit/shows.ts';

const T0 = Date.parse('2026-11-01T10:00:00Z');
const row = (label: string, seats: number, firstNumber?: number): RowDefinition => ({
  label,
  seats,
  category: 'gold',
  ...(firstNumber !== undefined ? { firstNumber } : {}),
});
const layoutOf = (...sections: Array<[string, RowDefinition[]]>): Layout => ({ sections: sections.map(([id, rows]) => ({ id, rows })) });

/** A driver with hold `held` on `heldSeats` and booking `booked` on `bookedSeats`. */
function withHoldAndBooking(def: ShowDefinition, heldSeats: string[], bookedSeats: string[]): CoreDriver {
  const d = new CoreDriver(def);
  d.ok({ type: 'hold', holdId: 'hb', seats: bookedSeats });
  d.ok({ type: 'confirm', holdId: 'hb', bookingId: 'booked' });
  d.ok({ type: 'hold', holdId: 'held', seats: heldSeats });
  return d;
}

/** Every seat of the hold and the booking still has its id and its status, and the hold's indices follow the ids. */
function assertSurvived(d: CoreDriver, heldSeats: string[], bookedSeats: string[]): void {
  const hold = d.s.holds.get('held');
  assert.ok(hold, 'the hold survives');
  assert.deepEqual(
    hold.seats.map((s) => labelOf(d.s.seatMap, s)),
    heldSeats,
  );
  for (const l of heldSeats) assert.equal(d.statusOf(l), SEAT_HELD, l);
  const booking = d.s.bookings.get('booked')!;
  assert.equal(booking.status, 'confirmed');
  assert.deepEqual(booking.seats, bookedSeats);
  for (const l of bookedSeats) assert.equal(d.statusOf(l), SEAT_BOOKED, l);
  checkAccounting(d.s);
}

describe('stable seat ids across layout changes', () => {
  it('adding a section keeps A-1; the new section is qualified', () => {
    const d = withHoldAndBooking(showDef(), ['A-1'], ['A-2', 'B-3']);
    const layout = layoutOf(['main', showDef().layout.sections[0].rows], ['balcony', [row('A', 4)]]);
    const r = d.ok({ type: 'changeShow', changes: { layout } });
    assert.deepEqual(r.releasedHolds, []);
    assert.deepEqual(r.cancelledBookings, []);
    assertSurvived(d, ['A-1'], ['A-2', 'B-3']);
    assert.deepEqual(seatLabels(d.s.seatMap).slice(18), ['B-9', 'B-10', 'balcony:A-1', 'balcony:A-2', 'balcony:A-3', 'balcony:A-4']);
    assert.equal(d.s.def.layout.unqualifiedSection, 'main');
    // Customers can hold the new seats by their qualified ids; the old ids stay bookable.
    d.ok({ type: 'hold', holdId: 'new', seats: ['balcony:A-1', 'A-3'] });
    assert.equal(d.statusOf('balcony:A-1'), SEAT_HELD);
    d.ok({ type: 'confirm', holdId: 'held', bookingId: 'b2' });
    assert.deepEqual(d.s.bookings.get('b2')!.seats, ['A-1']);
  });

  it('a section put in front of the unqualified one leaves its ids alone', () => {
    const d = withHoldAndBooking(showDef(), ['B-1'], ['A-10']);
    const layout = layoutOf(['stalls', [row('A', 2)]], ['main', showDef().layout.sections[0].rows]);
    d.ok({ type: 'changeShow', changes: { layout } });
    assertSurvived(d, ['B-1'], ['A-10']);
    assert.equal(labelOf(d.s.seatMap, 0), 'stalls:A-1');
  });

  it('removing a section cancels its bookings (with a refund) and keeps the other ids, qualified or not', () => {
    const def = showDef('s', 2, 10, { layout: layoutOf(['main', [row('A', 5)]], ['balcony', [row('A', 5)]], ['box', [row('A', 2)]]) });
    const d = withHoldAndBooking(def, ['main:A-1'], ['balcony:A-2']);
    d.ok({ type: 'hold', holdId: 'box', seats: ['box:A-1'] });
    const bookedTotal = d.s.bookings.get('booked')!.quote.total;
    // Two sections left, then one: their seats stay qualified, as the show was created.
    const r = d.ok({ type: 'changeShow', changes: { layout: layoutOf(['main', [row('A', 5)]], ['box', [row('A', 2)]]) } });
    assert.deepEqual(r.releasedHolds, []);
    assert.deepEqual(
      r.cancelledBookings.map((b) => [b.bookingId, b.status, b.cancelReason, b.refundDue, b.seats]),
      [['booked', 'cancelled', 'layout_changed', bookedTotal, ['balcony:A-2']]],
    );
    assert.equal(d.s.bookings.get('booked')!.status, 'cancelled');
    const r2 = d.ok({ type: 'changeShow', changes: { layout: layoutOf(['main', [row('A', 5)]]) } });
    assert.deepEqual(r2.releasedHolds, ['box']);
    assert.equal(d.s.endedHolds.get('box')!.reason, 'layout_changed');
    assert.deepEqual(seatLabels(d.s.seatMap), ['main:A-1', 'main:A-2', 'main:A-3', 'main:A-4', 'main:A-5']);
    assert.deepEqual(
      d.s.holds.get('held')!.seats.map((s) => labelOf(d.s.seatMap, s)),
      ['main:A-1'],
    );
    assert.equal(d.statusOf('main:A-1'), SEAT_HELD);
    assert.equal(seatIndexOf(d.s.seatMap, 'A-1'), undefined);
    checkAccounting(d.s);
  });

  it('removing the unqualified section leaves the others qualified; adding it back brings A-1 back', () => {
    const d = withHoldAndBooking(showDef('s', 1, 4), ['A-1'], ['A-2']);
    d.ok({ type: 'changeShow', changes: { layout: layoutOf(['main', [row('A', 4)]], ['balcony', [row('A', 3)]]) } });
    d.ok({ type: 'hold', holdId: 'bal', seats: ['balcony:A-3'] });
    const r = d.ok({ type: 'changeShow', changes: { layout: layoutOf(['balcony', [row('A', 3)]]) } });
    assert.deepEqual(r.releasedHolds, ['held']);
    assert.deepEqual(
      r.cancelledBookings.map((b) => [b.bookingId, b.cancelReason, b.refundDue]),
      [['booked', 'layout_changed', 50_000]],
    );
    assert.deepEqual(seatLabels(d.s.seatMap), ['balcony:A-1', 'balcony:A-2', 'balcony:A-3']);
    assert.equal(d.statusOf('balcony:A-3'), SEAT_HELD);
    d.ok({ type: 'changeShow', changes: { layout: layoutOf(['main', [row('A', 2)]], ['balcony', [row('A', 3)]]) } });
    assert.deepEqual(seatLabels(d.s.seatMap), ['A-1', 'A-2', 'balcony:A-1', 'balcony:A-2', 'balcony:A-3']);
    assert.equal(d.statusOf('A-1'), SEAT_AVAILABLE);
    assert.equal(d.statusOf('balcony:A-3'), SEAT_HELD);
    checkAccounting(d.s);
  });

  it('a row added in front moves indices, not ids', () => {
    const d = withHoldAndBooking(showDef(), ['B-3'], ['A-1']);
    const rows = [row('AA', 3), ...showDef().layout.sections[0].rows];
    const r = d.ok({ type: 'changeShow', changes: { layout: layoutOf(['main', rows]) } });
    assert.deepEqual([r.releasedHolds, r.cancelledBookings], [[], []]);
    assertSurvived(d, ['B-3'], ['A-1']);
    assert.equal(seatIndexOf(d.s.seatMap, 'B-3'), 3 + 10 + 2);
  });

  it('renumbering another row (firstNumber) ends only what is on numbers that are gone', () => {
    const d = withHoldAndBooking(showDef(), ['A-3', 'A-4'], ['B-2']);
    d.ok({ type: 'hold', holdId: 'b7', seats: ['B-7'] });
    // Row B becomes B-5 … B-14: B-1 … B-4 are gone, B-5 … B-10 stay.
    const r = d.ok({ type: 'changeShow', changes: { layout: layoutOf(['main', [row('A', 10), row('B', 10, 5)]]) } });
    assert.deepEqual(r.releasedHolds, []);
    assert.deepEqual(
      r.cancelledBookings.map((b) => [b.bookingId, b.cancelReason, b.refundDue]),
      [['booked', 'layout_changed', 50_000]],
    );
    assert.deepEqual(
      d.s.holds.get('held')!.seats.map((s) => labelOf(d.s.seatMap, s)),
      ['A-3', 'A-4'],
    );
    assert.equal(d.statusOf('B-7'), SEAT_HELD);
    assert.deepEqual(
      d.s.holds.get('b7')!.seats.map((s) => labelOf(d.s.seatMap, s)),
      ['B-7'],
    );
    assert.equal(d.statusOf('B-14'), SEAT_AVAILABLE);
    assert.equal(seatIndexOf(d.s.seatMap, 'B-2'), undefined);
    checkAccounting(d.s);
  });

  it('a seat removed from the end of a row ends the hold or booking on it, whole', () => {
    const d = withHoldAndBooking(showDef(), ['A-9'], ['A-10', 'A-8']);
    d.ok({ type: 'hold', holdId: 'edge', seats: ['B-10', 'B-1'] });
    const r = d.ok({ type: 'changeShow', changes: { layout: layoutOf(['main', [row('A', 9), row('B', 9)]]) } });
    assert.deepEqual(r.releasedHolds, ['edge']);
    assert.deepEqual(
      r.cancelledBookings.map((b) => [b.bookingId, b.status, b.cancelReason, b.refundDue]),
      [['booked', 'cancelled', 'layout_changed', 100_000]],
    );
    // The booking's other seat is free again; the hold on A-9 is untouched.
    assert.equal(d.statusOf('A-8'), SEAT_AVAILABLE);
    assert.equal(d.statusOf('B-1'), SEAT_AVAILABLE);
    assert.deepEqual(
      d.s.holds.get('held')!.seats.map((s) => labelOf(d.s.seatMap, s)),
      ['A-9'],
    );
    assert.equal(d.statusOf('A-9'), SEAT_HELD);
    checkAccounting(d.s);
  });

  it('the show view says which section is unqualified', () => {
    const d = new CoreDriver();
    assert.equal(showView(d.s).layout.unqualifiedSection, 'main');
    const two = new CoreDriver(showDef('s', 1, 1, { layout: layoutOf(['main', [row('A', 1)]], ['balcony', [row('A', 1)]]) }));
    assert.equal(showView(two.s).layout.unqualifiedSection, null);
  });
});

describe('choosing and keeping the seat-id rule', () => {
  it('a show may be created with a chosen unqualified section, or none', () => {
    const chosen = new CoreDriver(
      showDef('s', 1, 2, { layout: { ...layoutOf(['main', [row('A', 2)]], ['balcony', [row('A', 1)]]), unqualifiedSection: 'main' } }),
    );
    assert.deepEqual(seatLabels(chosen.s.seatMap), ['A-1', 'A-2', 'balcony:A-1']);
    const none = new CoreDriver(showDef('s', 1, 2, { layout: { ...layoutOf(['main', [row('A', 2)]]), unqualifiedSection: null } }));
    assert.deepEqual(seatLabels(none.s.seatMap), ['main:A-1', 'main:A-2']);
    const d = new CoreDriver(null);
    assert.equal(
      d.fails({
        type: 'createShow',
        def: showDef('s', 1, 2, { layout: { ...layoutOf(['main', [row('A', 2)]]), unqualifiedSection: 'pit' } }),
      }),
      'INVALID_ARGUMENT',
    );
  });

  it('a change may send the rule back but not change it', () => {
    const d = new CoreDriver();
    const rows = showDef().layout.sections[0].rows;
    assert.equal(
      d.fails({ type: 'changeShow', changes: { layout: { ...layoutOf(['main', rows]), unqualifiedSection: null } } }),
      'INVALID_ARGUMENT',
    );
    assert.equal(
      d.fails({ type: 'changeShow', changes: { layout: { ...layoutOf(['main', rows], ['b', [row('A', 1)]]), unqualifiedSection: 'b' } } }),
      'INVALID_ARGUMENT',
    );
    d.ok({ type: 'changeShow', changes: { layout: { ...layoutOf(['main', rows], ['b', [row('A', 1)]]), unqualifiedSection: 'main' } } });
    assert.deepEqual(seatLabels(d.s.seatMap).slice(-2), ['B-10', 'b:A-1']);
  });

  it('a retried create is still answered as done', () => {
    const d = new CoreDriver();
    assert.equal(d.run({ type: 'createShow', def: showDef() }).error, undefined);
    assert.equal(d.s.version, 1);
  });
});

describe('shows whose log predates the rule', () => {
  // Definitions as they were logged before shows wrote down their unqualified section.
  const legacy = (layout: Layout): ShowDefinition => showDef('old', 1, 1, { layout });
  const created = (def: ShowDefinition): ShowEvent => ({ type: 'ShowCreated', def, blocked: [], at: T0 });
  const held = (holdId: string, seats: number[]): ShowEvent => ({
    type: 'SeatsHeld',
    holdId,
    seats,
    createdAt: T0,
    expiresAt: T0 + 600_000,
  });

  it('replays with the ids they had: one section unqualified, several all qualified', () => {
    const one = evolveAll(null, [created(legacy(layoutOf(['main', [row('A', 2)]])))])!;
    assert.deepEqual(seatLabels(one.seatMap), ['A-1', 'A-2']);
    const two = evolveAll(null, [created(legacy(layoutOf(['main', [row('A', 1)]], ['balcony', [row('A', 1)]])))])!;
    assert.deepEqual(seatLabels(two.seatMap), ['main:A-1', 'balcony:A-1']);
  });

  it('replays an old layout change that renamed every seat exactly as it happened', () => {
    const before = legacy(layoutOf(['main', [row('A', 2)]]));
    const after = legacy(layoutOf(['main', [row('A', 2)]], ['balcony', [row('A', 1)]]));
    const state = evolveAll(null, [
      created(before),
      held('h1', [0]),
      // What the old decision logged: the hold ended (its id was gone), then the new definition.
      { type: 'HoldReleased', holdId: 'h1', seats: [0], reason: 'layout_changed', at: T0 },
      { type: 'ShowChanged', def: after, at: T0 },
      held('h2', [1]),
    ])!;
    assert.deepEqual(seatLabels(state.seatMap), ['main:A-1', 'main:A-2', 'balcony:A-1']);
    assert.equal(labelOf(state.seatMap, state.holds.get('h2')!.seats[0]), 'main:A-2');
    assert.equal(state.endedHolds.get('h1')!.reason, 'layout_changed');
    checkAccounting(state);
  });

  it('a new change to an old show keeps the ids it has, from its log or from a snapshot', () => {
    for (const [layout, kept, changed, expected] of [
      // One section: A-1 stays A-1 when a balcony arrives.
      [
        layoutOf(['main', [row('A', 2)]]),
        'A-1',
        layoutOf(['main', [row('A', 2)]], ['balcony', [row('A', 1)]]),
        ['A-1', 'A-2', 'balcony:A-1'],
      ],
      // Two sections: main:A-1 stays main:A-1 when the balcony goes.
      [
        layoutOf(['main', [row('A', 2)]], ['balcony', [row('A', 1)]]),
        'main:A-1',
        layoutOf(['main', [row('A', 2)]]),
        ['main:A-1', 'main:A-2'],
      ],
    ] as const) {
      const events = [created(legacy(layout)), held('h1', [0])];
      for (const state of [
        evolveAll(null, events)!,
        deserializeState(JSON.parse(JSON.stringify(serializeState(evolveAll(null, events)!)))),
      ]) {
        const d = new CoreDriver(null);
        d.state = state;
        d.now = T0;
        assert.deepEqual(
          state.holds.get('h1')!.seats.map((s) => labelOf(state.seatMap, s)),
          [kept],
        );
        const r = d.ok({ type: 'changeShow', changes: { layout: changed as Layout } });
        assert.deepEqual([r.releasedHolds, r.cancelledBookings], [[], []]);
        assert.deepEqual(seatLabels(d.s.seatMap), expected);
        assert.equal(d.statusOf(kept), SEAT_HELD);
        checkAccounting(d.s);
      }
    }
  });
});
