import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anythingDue, dueToForget } from '../../src/actors/forgetting.ts';
import { deserializeState, serializeState } from '../../src/actors/state-codec.ts';
import { CoreDriver, checkAccounting } from '../support/core.ts';

/** A show with one booking cancelled at +1 s, one confirmed, one hold released at +2 s and one live hold. */
function showWithEndedRecords(): CoreDriver {
  const d = new CoreDriver();
  d.ok({ type: 'hold', holdId: 'h-cancel', seats: ['A-1'] });
  d.ok({ type: 'confirm', holdId: 'h-cancel', bookingId: 'b-cancel' });
  d.ok({ type: 'hold', holdId: 'h-keep', seats: ['A-2'] });
  d.ok({ type: 'confirm', holdId: 'h-keep', bookingId: 'b-keep' });
  d.now += 1_000;
  d.ok({ type: 'cancelBookings', bookingIds: ['b-cancel'] });
  d.now += 1_000;
  d.ok({ type: 'hold', holdId: 'h-released', seats: ['A-3'] });
  d.ok({ type: 'release', holdId: 'h-released' });
  d.ok({ type: 'hold', holdId: 'h-live', seats: ['A-4'] });
  return d;
}

describe('forgetting ended records', () => {
  it('finds only what ended at or before the cutoff, oldest first', () => {
    const d = showWithEndedRecords();
    const t0 = Date.parse('2026-11-01T10:00:00Z');
    assert.equal(anythingDue(d.s, t0 + 999), false);
    assert.deepEqual(dueToForget(d.s, t0 + 999), { bookings: [], holdIds: [] });
    assert.equal(anythingDue(d.s, t0 + 1_000), true);
    const at1 = dueToForget(d.s, t0 + 1_000);
    assert.deepEqual(
      at1.bookings.map((b) => b.bookingId),
      ['b-cancel'],
    );
    assert.deepEqual(at1.holdIds, []);
    assert.deepEqual(dueToForget(d.s, t0 + 2_000).holdIds, ['h-released']);
    assert.deepEqual(dueToForget(d.s, t0 + 2_000, false).bookings, []);
    assert.equal(anythingDue(d.s, t0 + 1_500, false), false);
  });

  it('drops cancelled bookings and ended holds, never a live booking or hold', () => {
    const d = showWithEndedRecords();
    const before = d.s.version;
    const r = d.ok({ type: 'forgetEnded', bookingIds: ['b-cancel', 'b-keep', 'nope'], holdIds: ['h-released', 'h-live', 'h-cancel'] });
    assert.deepEqual(r, { type: 'forgetEnded', bookingIds: ['b-cancel'], holdIds: ['h-released'] });
    assert.equal(d.s.version, before + 1);
    assert.equal(d.s.bookings.has('b-cancel'), false);
    assert.equal(d.s.bookingByHold.has('h-cancel'), false);
    assert.equal(d.s.cancelledOrder.size, 0);
    assert.equal(d.s.bookings.get('b-keep')?.status, 'confirmed');
    assert.equal(d.s.bookingByHold.get('h-keep'), 'b-keep');
    assert.equal(d.s.endedHolds.has('h-released'), false);
    assert.equal(d.s.holds.has('h-live'), true);
    checkAccounting(d.s);
    // Nothing left to forget: no event, nothing changes.
    const again = d.ok({ type: 'forgetEnded', bookingIds: ['b-cancel'], holdIds: ['h-released'] });
    assert.deepEqual(again, { type: 'forgetEnded', bookingIds: [], holdIds: [] });
    assert.equal(d.s.version, before + 1);
  });

  it('a snapshot keeps the cancellation order and the end times', () => {
    const d = showWithEndedRecords();
    d.now += 1_000;
    d.ok({ type: 'cancelBookings', bookingIds: ['b-keep'] });
    const restored = deserializeState(JSON.parse(JSON.stringify(serializeState(d.s))));
    assert.deepEqual([...restored.cancelledOrder], [...d.s.cancelledOrder]);
    assert.deepEqual([...restored.cancelledOrder.keys()], ['b-cancel', 'b-keep']);
    assert.deepEqual([...restored.endedHolds], [...d.s.endedHolds]);
    assert.ok(restored.endedHolds.get('h-released')?.at);
  });
});
