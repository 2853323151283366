import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { showBody, startTestServer, type TestServer } from '../support/start-server.ts';

describe('http: holds, bookings and seats', () => {
  let srv: TestServer;
  const statuses = async (showId: string): Promise<string> => (await srv.request('GET', `/v1/shows/${showId}?format=compact`)).body.seats;

  before(async () => {
    srv = await startTestServer();
    const two = {
      categories: [
        { id: 'gold', price: 50000, currency: 'INR' },
        { id: 'silver', price: 30000, currency: 'INR' },
      ],
      layout: {
        sections: [
          {
            id: 'main',
            rows: [
              { label: 'A', seats: 10, category: 'gold' },
              { label: 'B', seats: 10, category: 'silver' },
            ],
          },
        ],
      },
    };
    for (const body of [
      showBody('eve', two),
      showBody('noon', { startsAt: '2026-12-01T14:00:00+05:30' }),
      showBody('ops'),
      showBody('reprice'),
    ]) {
      const res = await srv.request('POST', '/v1/shows', { admin: true, body });
      assert.equal(res.status, 201);
    }
  });
  after(() => srv.stop());

  it('holds explicit seats: 201 with id, token, seats, expiry and price', async () => {
    const res = await srv.request('POST', '/v1/shows/eve/holds', { body: { seats: ['A-1', 'A-2'], customerId: 'c1' } });
    assert.equal(res.status, 201);
    assert.match(res.body.holdId, /^[A-Za-z0-9_-]+$/);
    assert.equal(typeof res.body.holdToken, 'string');
    assert.deepEqual(res.body.seats, ['A-1', 'A-2']);
    assert.ok(Date.parse(res.body.expiresAt) > Date.now() + 590_000);
    assert.equal(res.body.price.total, 100000);
    assert.equal(res.body.customerId, 'c1');
    assert.equal((await statuses('eve')).slice(0, 3), 'hha');
  });

  it('confirm books the quote the hold was given, and refuses another expectedTotal with 409 PRICE_CHANGED', async () => {
    const hold = await srv.request('POST', '/v1/shows/reprice/holds', { body: { seats: ['B-1', 'A-2'] } });
    assert.equal(hold.status, 201);
    assert.deepEqual(hold.body.seats, ['A-2', 'B-1']);
    assert.equal(hold.body.price.total, 100000);
    const raised = await srv.request('PATCH', '/v1/shows/reprice', {
      admin: true,
      body: { categories: [{ id: 'gold', price: 60000, currency: 'INR' }] },
    });
    assert.equal(raised.status, 200);
    const headers = { 'hold-token': hold.body.holdToken };
    const wrong = await srv.request('POST', `/v1/shows/reprice/holds/${hold.body.holdId}/confirm`, {
      headers,
      body: { expectedTotal: 120000 },
    });
    assert.equal(wrong.status, 409);
    assert.equal(wrong.body.error.code, 'PRICE_CHANGED');
    assert.equal(wrong.body.error.total, 100000);
    const bad = await srv.request('POST', `/v1/shows/reprice/holds/${hold.body.holdId}/confirm`, { headers, body: { expectedTotal: -1 } });
    assert.equal(bad.status, 400);
    const booked = await srv.request('POST', `/v1/shows/reprice/holds/${hold.body.holdId}/confirm`, {
      headers,
      body: { expectedTotal: 100000 },
    });
    assert.equal(booked.status, 201);
    assert.equal(booked.body.total, 100000);
    assert.deepEqual(booked.body.lines, hold.body.price.lines);
  });

  it('holds the best seats together by count and category', async () => {
    const res = await srv.request('POST', '/v1/shows/eve/holds', { body: { count: 3, category: 'silver' } });
    assert.equal(res.status, 201);
    assert.equal(res.body.seats.length, 3);
    for (const seat of res.body.seats) assert.match(seat, /^B-\d+$/);
    const unknown = await srv.request('POST', '/v1/shows/eve/holds', { body: { count: 1, category: 'platinum' } });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.error.code, 'INVALID_ARGUMENT');
  });

  it('answers SEAT_UNAVAILABLE listing every taken seat, and holds nothing', async () => {
    const before = await statuses('eve');
    const res = await srv.request('POST', '/v1/shows/eve/holds', { body: { seats: ['A-3', 'A-1', 'A-2'] } });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'SEAT_UNAVAILABLE');
    assert.deepEqual([...res.body.error.seats].sort(), ['A-1', 'A-2']);
    assert.equal(await statuses('eve'), before);
  });

  it('answers HOLD_LIMIT_EXCEEDED (422) past the per-show seat cap', async () => {
    const res = await srv.request('POST', '/v1/shows/ops/holds', { body: { count: 11 } });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, 'HOLD_LIMIT_EXCEEDED');
  });

  it('confirms with the price breakdown: third ticket half price', async () => {
    const hold = await srv.request('POST', '/v1/shows/eve/holds', { body: { seats: ['A-5', 'A-6', 'A-7'] } });
    const res = await srv.request('POST', `/v1/shows/eve/holds/${hold.body.holdId}/confirm`, {
      holdToken: hold.body.holdToken,
      body: { paymentRef: 'pay_1' },
    });
    assert.equal(res.status, 201);
    assert.equal(res.body.holdId, hold.body.holdId);
    assert.deepEqual(res.body.seats, ['A-5', 'A-6', 'A-7']);
    assert.deepEqual(
      res.body.lines.map((l: { price: number }) => l.price),
      [50000, 50000, 25000],
    );
    assert.deepEqual(res.body.lines[2].discounts, [{ offer: 'nthTicket', amount: 25000 }]);
    assert.equal(res.body.total, 125000);
    assert.equal(res.body.paymentRef, 'pay_1');
    assert.equal(res.body.status, 'confirmed');
    assert.equal((await statuses('eve')).slice(4, 7), 'bbb');
    const got = await srv.request('GET', `/v1/shows/eve/bookings/${res.body.bookingId}`);
    assert.equal(got.status, 200);
    // The booking token is the confirm's alone (the customer's proof); the booking reads the same otherwise.
    const { bookingToken, ...booking } = res.body;
    assert.equal(typeof bookingToken, 'string');
    assert.deepEqual(got.body, booking);
  });

  it('confirms an afternoon show 20% off, compounding with the third ticket', async () => {
    const hold = await srv.request('POST', '/v1/shows/noon/holds', { body: { seats: ['A-1', 'A-2', 'A-3'] } });
    assert.equal(hold.body.price.total, 100000);
    const res = await srv.request('POST', `/v1/shows/noon/holds/${hold.body.holdId}/confirm`, { holdToken: hold.body.holdToken });
    assert.equal(res.status, 201);
    assert.deepEqual(
      res.body.lines.map((l: { price: number }) => l.price),
      [40000, 40000, 20000],
    );
    assert.equal(res.body.total, 100000);
  });

  it('confirming twice answers the same booking; releasing a confirmed hold is HOLD_ALREADY_CONFIRMED', async () => {
    const hold = await srv.request('POST', '/v1/shows/ops/holds', { body: { seats: ['B-9'] } });
    const path = `/v1/shows/ops/holds/${hold.body.holdId}`;
    const first = await srv.request('POST', `${path}/confirm`, { holdToken: hold.body.holdToken });
    const second = await srv.request('POST', `${path}/confirm`, { holdToken: hold.body.holdToken });
    assert.equal(second.status, 201);
    assert.equal(second.body.bookingId, first.body.bookingId);
    const release = await srv.request('DELETE', path, { holdToken: hold.body.holdToken });
    assert.equal(release.status, 409);
    assert.equal(release.body.error.code, 'HOLD_ALREADY_CONFIRMED');
  });

  it('releases a hold with 204 and frees its seats; a second release is still 204', async () => {
    const hold = await srv.request('POST', '/v1/shows/ops/holds', { body: { seats: ['A-1', 'A-2'] } });
    assert.equal((await statuses('ops')).slice(0, 2), 'hh');
    const path = `/v1/shows/ops/holds/${hold.body.holdId}`;
    const res = await srv.request('DELETE', path, { holdToken: hold.body.holdToken });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal((await statuses('ops')).slice(0, 2), 'aa');
    assert.equal((await srv.request('DELETE', path, { holdToken: hold.body.holdToken })).status, 204);
    const confirm = await srv.request('POST', `${path}/confirm`, { holdToken: hold.body.holdToken });
    assert.equal(confirm.status, 404);
    assert.equal(confirm.body.error.code, 'HOLD_NOT_FOUND');
  });

  it('extends a hold, bounded by the show limits', async () => {
    const hold = await srv.request('POST', '/v1/shows/ops/holds', { body: { seats: ['A-4'], ttlSeconds: 60 } });
    const path = `/v1/shows/ops/holds/${hold.body.holdId}/extend`;
    const res = await srv.request('POST', path, { holdToken: hold.body.holdToken, body: { ttlSeconds: 300 } });
    assert.equal(res.status, 200);
    assert.equal(res.body.holdId, hold.body.holdId);
    assert.ok(Date.parse(res.body.expiresAt) > Date.parse(hold.body.expiresAt));
    const noBody = await srv.request('POST', path, { holdToken: hold.body.holdToken });
    assert.equal(noBody.status, 200);
    const tooLong = await srv.request('POST', path, { holdToken: hold.body.holdToken, body: { ttlSeconds: 3600 } });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.error.code, 'INVALID_ARGUMENT');
  });

  it('gets and cancels a booking (admin), then bulk-cancels', async () => {
    const book = async (seats: string[]) => {
      const hold = await srv.request('POST', '/v1/shows/ops/holds', { body: { seats } });
      return (await srv.request('POST', `/v1/shows/ops/holds/${hold.body.holdId}/confirm`, { holdToken: hold.body.holdToken })).body;
    };
    const b1 = await book(['A-8']);
    const b2 = await book(['A-9']);
    const b3 = await book(['A-10']);
    const missing = await srv.request('GET', '/v1/shows/ops/bookings/b_nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'BOOKING_NOT_FOUND');

    const cancel = await srv.request('POST', `/v1/shows/ops/bookings/${b1.bookingId}/cancel`, { admin: true });
    assert.equal(cancel.status, 200);
    assert.equal(cancel.body.status, 'cancelled');
    assert.equal(cancel.body.refundDue, 50000);
    assert.equal((await srv.request('GET', `/v1/shows/ops/bookings/${b1.bookingId}`)).body.status, 'cancelled');
    assert.equal((await statuses('ops'))[7], 'a');

    const bulk = await srv.request('POST', '/v1/shows/ops/bookings/cancel', {
      admin: true,
      body: { bookingIds: [b2.bookingId, b3.bookingId] },
    });
    assert.equal(bulk.status, 200);
    assert.deepEqual(
      bulk.body.bookings.map((b: { status: string }) => b.status),
      ['cancelled', 'cancelled'],
    );
    const unknown = await srv.request('POST', '/v1/shows/ops/bookings/cancel', { admin: true, body: { bookingIds: ['b_nope'] } });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'BOOKING_NOT_FOUND');
  });

  it('blocks and unblocks seats (admin); blocked seats cannot be held', async () => {
    const res = await srv.request('POST', '/v1/shows/ops/seats/block', { admin: true, body: { seats: ['B-1', 'B-2'] } });
    assert.equal(res.status, 200);
    assert.equal((await statuses('ops')).slice(10, 12), 'xx');
    const hold = await srv.request('POST', '/v1/shows/ops/holds', { body: { seats: ['B-1'] } });
    assert.equal(hold.body.error.code, 'SEAT_UNAVAILABLE');
    const busy = await srv.request('POST', '/v1/shows/ops/seats/block', { admin: true, body: { seats: ['B-9'] } });
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, 'SEAT_UNAVAILABLE');
    const unblock = await srv.request('POST', '/v1/shows/ops/seats/unblock', { admin: true, body: { seats: ['B-1', 'B-2'] } });
    assert.equal(unblock.status, 200);
    assert.equal((await statuses('ops')).slice(10, 12), 'aa');
  });

  it('cancelling a show refunds bookings and releases holds', async () => {
    const hold = await srv.request('POST', '/v1/shows/eve/holds', { body: { seats: ['A-10'] } });
    const res = await srv.request('DELETE', '/v1/shows/eve', { admin: true });
    assert.equal(res.status, 200);
    assert.ok(res.body.releasedHolds.includes(hold.body.holdId));
    assert.equal(res.body.refunds.length, 1);
    assert.equal(res.body.refunds[0].cancelReason, 'show_cancelled');
    const later = await srv.request('POST', '/v1/shows/eve/holds', { body: { count: 1 } });
    assert.equal(later.status, 409);
    assert.equal(later.body.error.code, 'SHOW_CANCELLED');
  });
});
