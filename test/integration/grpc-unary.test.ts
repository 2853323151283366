import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminMetadata, call, createShow, failure, showRequest, startHarness, until, type Harness } from './grpc-harness.ts';

describe('grpc SeatInventory unary calls', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('CreateShow answers the show; GetShow and ListShows find it', async () => {
    const show = await createShow(h.client, 'g-create', 2, 5);
    assert.equal(show.id, 'g-create');
    assert.equal(show.capacity, 10);
    assert.equal(show.seats.length, 10);
    assert.deepEqual(show.seats[0], { id: 'A-1', category: 'gold', price: 50000, status: 'available' });
    assert.equal(show.offers.nth_ticket.none, false);
    assert.equal(show.layout.unqualified_section, 'main');

    const got = await call(h.client, 'GetShow', { show_id: 'g-create' });
    assert.equal(got.version, show.version);
    assert.equal(got.starts_at, '2026-12-01T19:30:00+05:30');
    assert.equal(got.seat_map, null);

    const compact = await call(h.client, 'GetShow', { show_id: 'g-create', compact: true });
    assert.deepEqual(compact.seats, []);
    assert.equal(compact.seat_map.version, show.version);
    assert.equal(compact.seat_map.labels.length, 10);
    assert.equal(compact.seat_map.labels[9], 'B-5');
    assert.equal(compact.seat_map.statuses, 'aaaaaaaaaa');
    assert.deepEqual(compact.seat_map.rows[1], { section: 'main', label: 'B', start: 5, count: 5 });

    // The catalog is updated after commit: wait for it without sleeping.
    let listed: any[] = [];
    const poll = async () => {
      listed = (await call(h.client, 'ListShows', { city: 'Pune', q: 'dune' })).shows;
      return listed.some((s: any) => s.id === 'g-create');
    };
    for (let i = 0; i < 50 && !(await poll()); i++) await new Promise((r) => setImmediate(r));
    const summary = listed.find((s: any) => s.id === 'g-create');
    assert.equal(summary.capacity, 10);
  });

  it('CreateShow takes the unqualified section of a layout with several', async () => {
    const layout = {
      sections: [
        { id: 'main', rows: [{ label: 'A', seats: 2, category: 'gold' }] },
        { id: 'pit', rows: [{ label: 'A', seats: 1, category: 'gold' }] },
      ],
      unqualified_section: 'main',
    };
    const show = await call(h.client, 'CreateShow', showRequest('g-ids', 1, 1, { layout }), { metadata: adminMetadata() });
    assert.deepEqual(
      show.seats.map((s: { id: string }) => s.id),
      ['A-1', 'A-2', 'pit:A-1'],
    );
    assert.equal(show.layout.unqualified_section, 'main');
  });

  it('CreateShow takes limits, offers and blocked seats', async () => {
    const show = await createShow(h.client, 'g-limits', 1, 10, {
      limits: { max_seats_per_hold: 2 },
      offers: { nth_ticket: { none: true } },
      blocked_seats: ['A-10'],
    });
    assert.equal(show.limits.max_seats_per_hold, 2);
    assert.equal(show.offers.nth_ticket.none, true);
    assert.equal(show.seats.find((s: any) => s.id === 'A-10').status, 'blocked');
    const f = await failure(call(h.client, 'Hold', { show_id: 'g-limits', count: 3 }));
    assert.equal(f.code, 'HOLD_LIMIT_EXCEEDED');
    assert.equal(f.status, grpc.status.FAILED_PRECONDITION);
  });

  it('admin calls need the bearer token', async () => {
    const missing = await failure(call(h.client, 'CreateShow', showRequest('g-noauth')));
    assert.equal(missing.status, grpc.status.UNAUTHENTICATED);
    assert.equal(missing.code, 'UNAUTHENTICATED');
    const wrong = await failure(call(h.client, 'CreateShow', showRequest('g-noauth'), { metadata: adminMetadata('not-the-token') }));
    assert.equal(wrong.status, grpc.status.PERMISSION_DENIED);
    assert.equal(wrong.code, 'FORBIDDEN');
    assert.equal((await failure(call(h.client, 'GetShow', { show_id: 'g-noauth' }))).code, 'SHOW_NOT_FOUND');
    assert.equal((await failure(call(h.client, 'CancelShow', { show_id: 'g-create' }))).code, 'UNAUTHENTICATED');
    assert.equal((await failure(call(h.client, 'CancelBooking', { show_id: 'g-create', booking_id: 'b_x' }))).code, 'UNAUTHENTICATED');
  });

  it('Hold, ExtendHold, Confirm, GetBooking, CancelBooking, Release', async () => {
    await createShow(h.client, 'g-flow');
    const hold = await call(h.client, 'Hold', { show_id: 'g-flow', seats: ['A-1', 'A-2', 'A-3'], customer_id: 'c-1' });
    assert.deepEqual(hold.seats, ['A-1', 'A-2', 'A-3']);
    assert.ok(hold.hold_token.length > 20);
    assert.equal(hold.customer_id, 'c-1');
    assert.equal(hold.price.currency, 'INR');
    // Default offer: the third ticket at half price.
    assert.equal(hold.price.total, 50000 + 50000 + 25000);
    assert.equal(hold.price.lines[2].discounts[0].offer, 'nthTicket');

    const extended = await call(h.client, 'ExtendHold', {
      show_id: 'g-flow',
      hold_id: hold.hold_id,
      hold_token: hold.hold_token,
      ttl_seconds: 900,
    });
    assert.equal(extended.hold_id, hold.hold_id);
    assert.ok(Date.parse(extended.expires_at) > Date.parse(hold.expires_at));

    const booking = await call(h.client, 'Confirm', {
      show_id: 'g-flow',
      hold_id: hold.hold_id,
      hold_token: hold.hold_token,
      payment_ref: 'pay-1',
    });
    assert.equal(booking.hold_id, hold.hold_id);
    assert.equal(booking.status, 'confirmed');
    assert.equal(booking.total, hold.price.total);
    assert.equal(booking.payment_ref, 'pay-1');
    assert.equal(booking.lines.length, 3);

    const fetched = await call(h.client, 'GetBooking', { show_id: 'g-flow', booking_id: booking.booking_id });
    assert.equal(fetched.total, booking.total);

    const cancelled = await call(
      h.client,
      'CancelBooking',
      { show_id: 'g-flow', booking_id: booking.booking_id },
      { metadata: adminMetadata() },
    );
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.refund_due, booking.total);

    const second = await call(h.client, 'Hold', { show_id: 'g-flow', count: 2 });
    assert.deepEqual(await call(h.client, 'Release', { show_id: 'g-flow', hold_id: second.hold_id, hold_token: second.hold_token }), {});
    const show = await call(h.client, 'GetShow', { show_id: 'g-flow' });
    assert.equal(show.counts.available, 30);
  });

  it('maps domain errors to status codes with the stable code in metadata', async () => {
    await createShow(h.client, 'g-errors');
    const hold = await call(h.client, 'Hold', { show_id: 'g-errors', seats: ['B-1', 'B-2'] });

    const taken = await failure(call(h.client, 'Hold', { show_id: 'g-errors', seats: ['B-2', 'B-3'] }));
    assert.equal(taken.status, grpc.status.FAILED_PRECONDITION);
    assert.equal(taken.code, 'SEAT_UNAVAILABLE');
    assert.deepEqual(taken.seats, ['B-2']);

    // A released hold is gone: confirming it later is HOLD_NOT_FOUND.
    const gone = await call(h.client, 'Hold', { show_id: 'g-errors', seats: ['C-1'] });
    await call(h.client, 'Release', { show_id: 'g-errors', hold_id: gone.hold_id, hold_token: gone.hold_token });
    const noHold = await failure(call(h.client, 'Confirm', { show_id: 'g-errors', hold_id: gone.hold_id, hold_token: gone.hold_token }));
    assert.equal(noHold.status, grpc.status.NOT_FOUND);
    assert.equal(noHold.code, 'HOLD_NOT_FOUND');
    // A token minted for another hold does not open this one.
    const otherToken = await failure(
      call(h.client, 'Release', { show_id: 'g-errors', hold_id: hold.hold_id, hold_token: gone.hold_token }),
    );
    assert.equal(otherToken.code, 'FORBIDDEN');

    const wrongToken = await failure(call(h.client, 'Confirm', { show_id: 'g-errors', hold_id: hold.hold_id, hold_token: 'x'.repeat(43) }));
    assert.equal(wrongToken.status, grpc.status.PERMISSION_DENIED);
    assert.equal(wrongToken.code, 'FORBIDDEN');

    const noShow = await failure(call(h.client, 'GetShow', { show_id: 'g-missing' }));
    assert.equal(noShow.status, grpc.status.NOT_FOUND);
    assert.equal(noShow.code, 'SHOW_NOT_FOUND');

    const exists = await failure(createShow(h.client, 'g-errors', 1, 1));
    assert.equal(exists.status, grpc.status.ALREADY_EXISTS);
    assert.equal(exists.code, 'SHOW_EXISTS');
  });

  it('rejects bad input with INVALID_ARGUMENT and changes nothing', async () => {
    await createShow(h.client, 'g-bad');
    const before = (await call(h.client, 'GetShow', { show_id: 'g-bad' })).version;
    const label = await failure(call(h.client, 'Hold', { show_id: 'g-bad', seats: ['A 1'] }));
    assert.equal(label.status, grpc.status.INVALID_ARGUMENT);
    assert.equal(label.code, 'INVALID_ARGUMENT');
    assert.deepEqual(label.fields, ['seats.0']);
    const zero = await failure(call(h.client, 'Hold', { show_id: 'g-bad', count: 0 }));
    assert.equal(zero.code, 'INVALID_ARGUMENT');
    assert.deepEqual(zero.fields, ['count']);
    assert.equal((await failure(call(h.client, 'Hold', { show_id: 'g-bad' }))).code, 'INVALID_ARGUMENT');
    assert.equal((await failure(call(h.client, 'Hold', { show_id: 'g-bad', seats: ['A-1'], count: 1 }))).code, 'INVALID_ARGUMENT');
    assert.equal((await failure(call(h.client, 'Hold', { show_id: 'g-bad', seats: ['A-1', 'A-1'] }))).code, 'INVALID_ARGUMENT');
    assert.equal((await failure(call(h.client, 'Hold', { show_id: 'g.bad', count: 1 }))).code, 'INVALID_ARGUMENT');
    assert.equal((await failure(call(h.client, 'Hold', { show_id: 'g-bad', count: 1, ttl_seconds: 0 }))).code, 'INVALID_ARGUMENT');
    assert.equal((await failure(call(h.client, 'Hold', { show_id: 'g-bad', seats: ['Z-99'] }))).code, 'INVALID_ARGUMENT');
    assert.equal((await failure(call(h.client, 'GetShow', {}))).code, 'INVALID_ARGUMENT');
    const badShow = await failure(
      call(h.client, 'CreateShow', { ...showRequest('g-bad2'), starts_at: 'tomorrow' }, { metadata: adminMetadata() }),
    );
    assert.deepEqual([badShow.code, badShow.fields], ['INVALID_ARGUMENT', ['starts_at']]);
    assert.equal((await call(h.client, 'GetShow', { show_id: 'g-bad' })).version, before);
    assert.equal((await failure(call(h.client, 'GetShow', { show_id: 'g-bad2' }))).code, 'SHOW_NOT_FOUND');
  });

  it('a message over the receive limit is refused', async () => {
    const huge = await failure(call(h.client, 'GetShow', { show_id: 'x'.repeat(2 * 1024 * 1024) }));
    assert.equal(huge.status, grpc.status.RESOURCE_EXHAUSTED);
  });

  it('an idempotency key makes a retried Hold return the same hold', async () => {
    await createShow(h.client, 'g-idem');
    const first = await call(h.client, 'Hold', { show_id: 'g-idem', count: 2, idempotency_key: 'hold-retry-1-0123456789' });
    const version = (await call(h.client, 'GetShow', { show_id: 'g-idem' })).version;
    const again = await call(h.client, 'Hold', { show_id: 'g-idem', count: 2, idempotency_key: 'hold-retry-1-0123456789' });
    assert.equal(again.hold_id, first.hold_id);
    assert.equal(again.hold_token, first.hold_token);
    assert.deepEqual(again.seats, first.seats);
    const show = await call(h.client, 'GetShow', { show_id: 'g-idem' });
    assert.equal(show.version, version, 'the retry appended nothing');
    assert.equal(show.counts.held, 2);
    const other = await call(h.client, 'Hold', { show_id: 'g-idem', count: 2, idempotency_key: 'hold-retry-2-0123456789' });
    assert.notEqual(other.hold_id, first.hold_id);
  });

  it('an expired hold cannot be confirmed: HOLD_EXPIRED', async () => {
    await createShow(h.client, 'g-expiry');
    const hold = await call(h.client, 'Hold', { show_id: 'g-expiry', seats: ['A-1'], ttl_seconds: 1 });
    // Wait for the expiry to commit (its seat delta), not for a fixed time.
    let expired = false;
    await until(
      () => expired,
      (wake) =>
        h.node.service.watch('g-expiry', (d) => {
          if (d.changes.some(([id, status]) => id === 'A-1' && status === 'available')) expired = true;
          wake();
        }),
      5_000,
      'the hold to expire',
    );
    const f = await failure(call(h.client, 'Confirm', { show_id: 'g-expiry', hold_id: hold.hold_id, hold_token: hold.hold_token }));
    assert.equal(f.status, grpc.status.FAILED_PRECONDITION);
    assert.equal(f.code, 'HOLD_EXPIRED');
  });

  it('a cancelled show refuses holds: SHOW_CANCELLED', async () => {
    await createShow(h.client, 'g-cancel');
    const hold = await call(h.client, 'Hold', { show_id: 'g-cancel', seats: ['A-1', 'A-2'] });
    const booking = await call(h.client, 'Confirm', { show_id: 'g-cancel', hold_id: hold.hold_id, hold_token: hold.hold_token });
    const open = await call(h.client, 'Hold', { show_id: 'g-cancel', seats: ['B-1'] });
    const res = await call(h.client, 'CancelShow', { show_id: 'g-cancel', reason: 'storm' }, { metadata: adminMetadata() });
    assert.deepEqual(res.released_holds, [open.hold_id]);
    assert.deepEqual(
      res.refunds.map((b: any) => [b.booking_id, b.cancel_reason, b.refund_due]),
      [[booking.booking_id, 'show_cancelled', booking.total]],
    );
    const f = await failure(call(h.client, 'Hold', { show_id: 'g-cancel', count: 1 }));
    assert.equal(f.status, grpc.status.FAILED_PRECONDITION);
    assert.equal(f.code, 'SHOW_CANCELLED');
    const show = await call(h.client, 'GetShow', { show_id: 'g-cancel' });
    assert.equal(show.status, 'cancelled');
    assert.equal(show.cancel_reason, 'storm');
  });

  it('a call whose deadline has passed gets DEADLINE_EXCEEDED', async () => {
    await createShow(h.client, 'g-deadline');
    const past = await failure(call(h.client, 'Hold', { show_id: 'g-deadline', count: 1 }, { deadline: Date.now() - 1_000 }));
    assert.equal(past.status, grpc.status.DEADLINE_EXCEEDED);
    // A 50,000-seat map cannot be built, encoded and sent within 1 ms.
    await createShow(h.client, 'g-big', 50, 1_000);
    const tiny = await failure(call(h.client, 'GetShow', { show_id: 'g-big' }, { deadline: Date.now() + 1 }));
    assert.equal(tiny.status, grpc.status.DEADLINE_EXCEEDED);
    assert.equal((await call(h.client, 'GetShow', { show_id: 'g-deadline' })).counts.held, 0);
  });

  it('health: SERVING for the server and the service, NOT_FOUND for others', async () => {
    assert.equal((await call(h.health, 'Check', { service: '' })).status, 'SERVING');
    assert.equal((await call(h.health, 'Check', { service: 'seats.v1.SeatInventory' })).status, 'SERVING');
    assert.equal((await failure(call(h.health, 'Check', { service: 'nope.Nope' }))).status, grpc.status.NOT_FOUND);
  });
});

describe('grpc server shutdown', () => {
  it('health watchers see NOT_SERVING, then the stream ends', async () => {
    const h = await startHarness();
    const seen: string[] = [];
    const stream = h.health.Watch({ service: '' });
    let ended = false;
    stream.on('data', (m: { status: string }) => seen.push(m.status));
    stream.on('end', () => (ended = true));
    stream.on('error', () => (ended = true));
    const wakeOn = (wake: () => void) => {
      stream.on('data', wake);
      stream.on('end', wake);
      stream.on('error', wake);
      return () => {
        stream.off('data', wake);
        stream.off('end', wake);
        stream.off('error', wake);
      };
    };
    await until(() => seen.length > 0, wakeOn, 5_000, 'the first health status');
    const closing = h.server.close();
    await until(() => ended, wakeOn, 5_000, 'the health stream to end');
    assert.deepEqual(seen, ['SERVING', 'NOT_SERVING']);
    await closing;
    await h.stop();
  });
});
