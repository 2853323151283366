import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { FORGET_MARGIN_MS } from '../../src/actors/forgetting.ts';
import { openEmbeddedStorage } from '../../src/persistence/index.ts';
import { eventually } from '../durable/support.ts';
import { showBody, startTestServer, type TestServer } from '../support/start-server.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const RETENTION_SECONDS = 60;
const HOUR = 3_600_000;

/**
 * The customer's own booking over HTTP: the booking token from confirm reads and cancels it
 * under the show's cancellation policy; the admin lists a show's bookings, those the show
 * forgot (archived, embedded storage) included. Time is the host's clock, moved by the test.
 */
describe("http: the customer's booking and the admin's list", () => {
  let srv: TestServer;
  let dir: string;
  let clock = Date.now();
  // Starts in 100 hours: the 50 % rule (24 h) applies, the full-refund one (200 h) no longer does.
  const startsAt = new Date(Date.now() + 100 * HOUR).toISOString();
  const policy = [
    { hoursBeforeStart: 200, refundPercent: 100 },
    { hoursBeforeStart: 24, refundPercent: 50 },
  ];

  async function book(showId: string, seats: string[], customerId: string) {
    const hold = await srv.request('POST', `/v1/shows/${showId}/holds`, { body: { seats, customerId } });
    assert.equal(hold.status, 201);
    const res = await srv.request('POST', `/v1/shows/${showId}/holds/${hold.body.holdId}/confirm`, { holdToken: hold.body.holdToken });
    assert.equal(res.status, 201);
    return res.body as { bookingId: string; bookingToken: string; total: number };
  }
  const cancelAsCustomer = (showId: string, bookingId: string, token: string, body?: unknown) =>
    srv.request('POST', `/v1/shows/${showId}/bookings/${bookingId}/cancel`, {
      headers: { 'booking-token': token },
      ...(body ? { body } : {}),
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seats-bookings-'));
    srv = await startTestServer({
      storage: await openEmbeddedStorage(dir, logger),
      clock: () => clock,
      node: { idempotencyRetentionSeconds: RETENTION_SECONDS },
      logger,
    });
    for (const body of [
      showBody('pol', { startsAt, cancellationPolicy: policy }),
      showBody('late', {
        startsAt: new Date(Date.now() + HOUR).toISOString(),
        cancellationPolicy: [{ hoursBeforeStart: 2, refundPercent: 100 }],
      }),
      showBody('list', { startsAt }),
    ]) {
      const res = await srv.request('POST', '/v1/shows', { admin: true, body });
      assert.equal(res.status, 201, JSON.stringify(res.body));
    }
  });
  after(async () => {
    await srv.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the show answers its policy; a bad policy is refused with 400', async () => {
    assert.deepEqual((await srv.request('GET', '/v1/shows/pol')).body.cancellationPolicy, policy);
    assert.deepEqual((await srv.request('GET', '/v1/shows/list')).body.cancellationPolicy, [{ hoursBeforeStart: 0, refundPercent: 100 }]);
    for (const cancellationPolicy of [
      [{ hoursBeforeStart: 1, refundPercent: 101 }],
      [{ hoursBeforeStart: -1, refundPercent: 5 }],
      [
        { hoursBeforeStart: 1, refundPercent: 5 },
        { hoursBeforeStart: 1, refundPercent: 6 },
      ],
      [{ hoursBeforeStart: 1 }],
    ]) {
      const res = await srv.request('PATCH', '/v1/shows/pol', { admin: true, body: { cancellationPolicy } });
      assert.equal(res.status, 400, JSON.stringify(cancellationPolicy));
      assert.equal(res.body.error.code, 'INVALID_ARGUMENT');
    }
  });

  it('confirm returns a booking token; GET with it works, a wrong one is 403, none works as before', async () => {
    const b = await book('pol', ['A-1'], 'c-read');
    assert.equal(typeof b.bookingToken, 'string');
    const path = `/v1/shows/pol/bookings/${b.bookingId}`;
    const mine = await srv.request('GET', path, { headers: { 'booking-token': b.bookingToken } });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.bookingId, b.bookingId);
    assert.equal(mine.body.bookingToken, undefined, 'the token is given once, by confirm');
    const wrong = await srv.request('GET', path, { headers: { 'booking-token': `${b.bookingToken.slice(0, -2)}xx` } });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, 'FORBIDDEN');
    assert.equal((await srv.request('GET', path)).status, 200);
  });

  it('the customer cancels under the policy (50 % at 100 hours before): 200 with the booking and refundDue', async () => {
    const b = await book('pol', ['A-2', 'A-3'], 'c-cancel');
    const res = await cancelAsCustomer('pol', b.bookingId, b.bookingToken);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, 'cancelled');
    assert.equal(res.body.refundDue, b.total / 2);
    assert.equal(res.body.refundPercent, 50);
    const seats = (await srv.request('GET', '/v1/shows/pol?format=compact')).body.seats as string;
    assert.equal(seats.slice(1, 3), 'aa');
    const again = await cancelAsCustomer('pol', b.bookingId, b.bookingToken);
    assert.deepEqual(again.body, res.body);
  });

  it('a wrong booking token is 403 and changes nothing; a body with fields is 400', async () => {
    const b = await book('pol', ['A-4'], 'c-wrong');
    const other = await book('pol', ['A-5'], 'c-wrong');
    assert.equal((await cancelAsCustomer('pol', b.bookingId, other.bookingToken)).status, 403);
    assert.equal((await cancelAsCustomer('pol', b.bookingId, 'x'.repeat(300))).status, 403);
    assert.equal((await cancelAsCustomer('pol', b.bookingId, b.bookingToken, { refundPercent: 100 })).status, 400);
    assert.equal((await srv.request('GET', `/v1/shows/pol/bookings/${b.bookingId}`)).body.status, 'confirmed');
  });

  it('past the last rule: 409 CANCELLATION_CLOSED, the booking stays', async () => {
    const b = await book('late', ['A-1'], 'c-late');
    const res = await cancelAsCustomer('late', b.bookingId, b.bookingToken);
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'CANCELLATION_CLOSED');
    assert.equal((await srv.request('GET', `/v1/shows/late/bookings/${b.bookingId}`)).body.status, 'confirmed');
  });

  it('the admin path still needs the admin token, and may set the refund percent', async () => {
    const b = await book('late', ['A-2', 'A-3'], 'c-admin');
    const path = `/v1/shows/late/bookings/${b.bookingId}/cancel`;
    assert.equal((await srv.request('POST', path)).status, 401);
    const res = await srv.request('POST', path, { admin: true, body: { refundPercent: 25 } });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'cancelled');
    assert.equal(res.body.refundDue, b.total / 4);
    const full = await book('late', ['A-4'], 'c-admin');
    const bulk = await srv.request('POST', '/v1/shows/late/bookings/cancel', { admin: true, body: { bookingIds: [full.bookingId] } });
    assert.equal(bulk.body.bookings[0].refundDue, full.total);
    assert.equal((await srv.request('POST', path, { admin: true, body: { refundPercent: 150 } })).status, 400);
  });

  it('the admin lists bookings with filters and cursor paging, archived ones included', async () => {
    const b1 = await book('list', ['A-1'], 'alice');
    const b2 = await book('list', ['A-2'], 'bob');
    const b3 = await book('list', ['A-3'], 'alice');
    assert.equal((await cancelAsCustomer('list', b1.bookingId, b1.bookingToken)).status, 200);
    const b4 = await book('list', ['B-1'], 'carol');
    // Past the key retention and the margin, the next commit archives and forgets b1. The
    // clock is the host's alone: commands go to the host from here on, as an HTTP command's
    // deadline (real time) would be past on the moved clock; reads are the point anyway.
    clock += (RETENTION_SECONDS * 1000 + FORGET_MARGIN_MS) * 2;
    await srv.node.host.execute('list', { type: 'hold', holdId: 'h-tick', seats: ['B-2'] });
    await eventually(() => srv.node.host.read('list', (s) => !s.bookings.has(b1.bookingId)), 10_000, 'b1 to be forgotten');

    assert.equal((await srv.request('GET', '/v1/shows/list/bookings')).status, 401);
    const all = await srv.request('GET', '/v1/shows/list/bookings', { admin: true });
    assert.equal(all.status, 200);
    assert.equal(all.body.bookings.length, 4);
    assert.equal(all.body.nextCursor, undefined);
    const archived = all.body.bookings.find((b: { bookingId: string }) => b.bookingId === b1.bookingId);
    assert.equal(archived.status, 'cancelled');
    assert.equal(archived.refundDue, b1.total);
    const ids = all.body.bookings.map((b: { bookingId: string }) => b.bookingId);
    assert.deepEqual(ids, [...ids].sort(), 'bookingId order');

    const alice = await srv.request('GET', '/v1/shows/list/bookings?customerId=alice', { admin: true });
    assert.deepEqual(alice.body.bookings.map((b: { bookingId: string }) => b.bookingId).sort(), [b1.bookingId, b3.bookingId].sort());
    const cancelled = await srv.request('GET', '/v1/shows/list/bookings?status=cancelled', { admin: true });
    assert.deepEqual(
      cancelled.body.bookings.map((b: { bookingId: string }) => b.bookingId),
      [b1.bookingId],
    );
    const bobConfirmed = await srv.request('GET', '/v1/shows/list/bookings?customerId=bob&status=confirmed', { admin: true });
    assert.deepEqual(
      bobConfirmed.body.bookings.map((b: { bookingId: string }) => b.bookingId),
      [b2.bookingId],
    );

    const paged: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await srv.request('GET', `/v1/shows/list/bookings?limit=1${cursor ? `&cursor=${cursor}` : ''}`, { admin: true });
      assert.equal(res.status, 200);
      assert.equal(res.body.bookings.length, 1);
      paged.push(res.body.bookings[0].bookingId);
      cursor = res.body.nextCursor;
      if (cursor === undefined) break;
    }
    assert.deepEqual(paged, ids);

    // The archived booking still reads for its customer, token checked.
    const mine = await srv.request('GET', `/v1/shows/list/bookings/${b1.bookingId}`, { headers: { 'booking-token': b1.bookingToken } });
    assert.equal(mine.body.status, 'cancelled');
    assert.equal(
      (await srv.request('GET', `/v1/shows/list/bookings/${b1.bookingId}`, { headers: { 'booking-token': b3.bookingToken } })).status,
      403,
    );
    assert.equal((await srv.service.cancelOwnBooking('list', b1.bookingId, b1.bookingToken)).status, 'cancelled');
    assert.ok(b4.bookingId);

    for (const q of ['status=gone', 'limit=0', 'limit=501', 'cursor=a.b']) {
      const res = await srv.request('GET', `/v1/shows/list/bookings?${q}`, { admin: true });
      assert.equal(res.status, 400, q);
    }
  });
});
