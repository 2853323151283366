import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminMetadata, call, createShow, failure, startHarness, type Harness } from './grpc-harness.ts';

describe('grpc GetReport and GetSeatHistory', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await createShow(h.client, 'g-rep', 2, 5, { blocked_seats: ['B-5'] });
  });
  after(async () => {
    await h.stop();
  });

  it('GetReport answers the counts per category and section and the sales, in snake_case', async () => {
    const hold = await call(h.client, 'Hold', { show_id: 'g-rep', seats: ['A-3', 'A-4'], customer_id: 'c1' });
    const booking = await call(h.client, 'Confirm', { show_id: 'g-rep', hold_id: hold.hold_id, hold_token: hold.hold_token });
    await call(h.client, 'Hold', { show_id: 'g-rep', seats: ['B-1'] });
    const r = await call(h.client, 'GetReport', { show_id: 'g-rep' }, { metadata: adminMetadata() });
    assert.equal(r.show_id, 'g-rep');
    assert.deepEqual(r.seats, { available: 6, held: 1, booked: 2, blocked: 1 });
    assert.deepEqual(r.categories, { gold: { available: 6, held: 1, booked: 2, blocked: 1, price: 50000 } });
    assert.deepEqual(r.sections, { main: { available: 6, held: 1, booked: 2, blocked: 1 } });
    assert.deepEqual(r.sales, { bookings: 1, seats: 2, gross: booking.total, refunded: 0, net: booking.total, currency: 'INR' });

    const anonymous = await failure(call(h.client, 'GetReport', { show_id: 'g-rep' }));
    assert.equal(anonymous.status, grpc.status.UNAUTHENTICATED);
    const missing = await failure(call(h.client, 'GetReport', { show_id: 'nope' }, { metadata: adminMetadata() }));
    assert.equal(missing.code, 'SHOW_NOT_FOUND');
  });

  it('GetSeatHistory reads held, booked, available for a seat booked and then cancelled', async () => {
    const hold = await call(h.client, 'Hold', { show_id: 'g-rep', seats: ['A-1'], customer_id: 'c2' });
    const booking = await call(h.client, 'Confirm', { show_id: 'g-rep', hold_id: hold.hold_id, hold_token: hold.hold_token });
    await call(h.client, 'CancelBooking', { show_id: 'g-rep', booking_id: booking.booking_id }, { metadata: adminMetadata() });
    const r = await call(h.client, 'GetSeatHistory', { show_id: 'g-rep', seat_id: 'A-1' }, { metadata: adminMetadata() });
    assert.equal(r.seat_id, 'A-1');
    assert.equal(r.complete, true);
    assert.deepEqual(
      r.history.map((e: any) => e.status),
      ['held', 'booked', 'available'],
    );
    assert.deepEqual(
      r.history.map((e: any) => e.booking_id ?? null),
      [null, booking.booking_id, booking.booking_id],
    );
    assert.equal(r.history[0].hold_id, hold.hold_id);
    assert.equal(r.history[0].customer_id, 'c2');
    assert.equal(r.history[2].reason, 'cancelled');
    assert.ok(r.history.every((e: any, i: number) => i === 0 || e.version > r.history[i - 1].version));

    const blocked = await call(h.client, 'GetSeatHistory', { show_id: 'g-rep', seat_id: 'B-5' }, { metadata: adminMetadata() });
    assert.deepEqual(
      blocked.history.map((e: any) => e.status),
      ['blocked'],
    );
    const unknown = await failure(call(h.client, 'GetSeatHistory', { show_id: 'g-rep', seat_id: 'Q-9' }, { metadata: adminMetadata() }));
    assert.equal(unknown.status, grpc.status.NOT_FOUND);
    assert.equal(unknown.code, 'NOT_FOUND');
    const bad = await failure(call(h.client, 'GetSeatHistory', { show_id: 'g-rep', seat_id: 'a b' }, { metadata: adminMetadata() }));
    assert.equal(bad.code, 'INVALID_ARGUMENT');
    const anonymous = await failure(call(h.client, 'GetSeatHistory', { show_id: 'g-rep', seat_id: 'A-1' }));
    assert.equal(anonymous.status, grpc.status.UNAUTHENTICATED);
  });
});
