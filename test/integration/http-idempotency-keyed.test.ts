import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/gateway/index.ts';
import { logger } from '../../src/logger.ts';
import { openMemoryStorage, type Storage } from '../../src/persistence/index.ts';
import { request, showBody, startTestServer, type RequestOptions, type TestResponse, type TestServer } from '../support/start-server.ts';

/**
 * Every keyed HTTP write retried through a second gateway, whose response cache is empty: the
 * answer comes from the record the show keeps under the key, not from the first gateway.
 */
describe('http: every keyed write is answered again by the show, through another gateway', () => {
  let srv: TestServer;
  let storage: Storage;
  let second: Gateway;
  const SHOW = 'keyed';
  let n = 0;
  const key = (name: string) => `${name}-${n++}-0123456789abcdef`;
  const viaSecond = (method: string, path: string, o?: RequestOptions) => request(second.url, srv.adminToken, method, path, o);
  const version = async () => (await srv.request('GET', `/v1/shows/${SHOW}?format=compact`)).body.version as number;

  /** Sends the call, then the same call with the same key through the second gateway: same answer, nothing logged. */
  async function once(method: string, path: string, o: RequestOptions): Promise<TestResponse> {
    const first = await srv.request(method, path, o);
    assert.ok(first.status < 300, `${method} ${path}: ${first.status} ${first.text}`);
    const seq = await storage.log.lastSeq(SHOW);
    const v = await version();
    const again = await viaSecond(method, path, o);
    assert.equal(again.status, first.status, `${method} ${path}`);
    assert.deepEqual(again.body, first.body, `${method} ${path}`);
    assert.equal(await storage.log.lastSeq(SHOW), seq, `${method} ${path}: the retry logged nothing`);
    assert.equal(await version(), v);
    return first;
  }

  before(async () => {
    storage = openMemoryStorage(logger);
    srv = await startTestServer({ storage });
    second = await startGateway({
      service: srv.service,
      config: { port: 0, host: '127.0.0.1', grpcPort: 0, maxBodyBytes: DEFAULT_MAX_BODY_BYTES },
      adminToken: srv.adminToken,
      logger,
    });
    assert.equal((await srv.request('POST', '/v1/shows', { admin: true, body: showBody(SHOW, {}, 3, 10) })).status, 201);
  });
  after(async () => {
    await second.close(1_000);
    await srv.stop();
  });

  it('hold, extend, confirm, release, cancel booking(s) (admin and customer), block, unblock, change and cancel show', async () => {
    const base = `/v1/shows/${SHOW}`;
    const hold = (await once('POST', `${base}/holds`, { body: { seats: ['A-1', 'A-2'] }, idempotencyKey: key('hold') })).body;
    const holdOpts = (k: string, body?: unknown): RequestOptions => ({
      holdToken: hold.holdToken,
      idempotencyKey: key(k),
      ...(body ? { body } : {}),
    });
    await once('POST', `${base}/holds/${hold.holdId}/extend`, holdOpts('extend', { ttlSeconds: 900 }));
    const booking = (await once('POST', `${base}/holds/${hold.holdId}/confirm`, holdOpts('confirm', { paymentRef: 'p-1' }))).body;

    const other = (await srv.request('POST', `${base}/holds`, { body: { seats: ['B-1'] } })).body;
    await once('DELETE', `${base}/holds/${other.holdId}`, { holdToken: other.holdToken, idempotencyKey: key('release') });

    const bookingsOf = async (seats: string[]) => {
      const h = (await srv.request('POST', `${base}/holds`, { body: { seats } })).body;
      return (await srv.request('POST', `${base}/holds/${h.holdId}/confirm`, { holdToken: h.holdToken })).body;
    };
    const [b1, b2, b3] = [await bookingsOf(['C-1']), await bookingsOf(['C-2']), await bookingsOf(['C-3'])];
    await once('POST', `${base}/bookings/cancel`, {
      admin: true,
      body: { bookingIds: [b1.bookingId, b2.bookingId], refundPercent: 50 },
      idempotencyKey: key('bulk'),
    });
    await once('POST', `${base}/bookings/${b3.bookingId}/cancel`, {
      admin: true,
      body: { refundPercent: 20 },
      idempotencyKey: key('admin-cancel'),
    });
    await once('POST', `${base}/bookings/${booking.bookingId}/cancel`, {
      headers: { 'booking-token': booking.bookingToken },
      idempotencyKey: key('own-cancel'),
    });

    await once('POST', `${base}/seats/block`, { admin: true, body: { seats: ['B-9', 'B-10'] }, idempotencyKey: key('block') });
    await once('POST', `${base}/seats/unblock`, { admin: true, body: { seats: ['B-9'] }, idempotencyKey: key('unblock') });
    await once('PATCH', base, { admin: true, body: { venue: 'Screen 2' }, idempotencyKey: key('change') });

    const live = (await srv.request('POST', `${base}/holds`, { body: { seats: ['A-5'] } })).body;
    const cancelled = await once('DELETE', base, { admin: true, body: { reason: 'storm' }, idempotencyKey: key('cancel-show') });
    assert.deepEqual(cancelled.body.releasedHolds, [live.holdId]);
  });

  it('the same key with another body, through another gateway, is refused by the show and changes nothing', async () => {
    await srv.request('POST', '/v1/shows', { admin: true, body: showBody('keyed2') });
    const base = '/v1/shows/keyed2';
    const k = key('block');
    assert.equal(
      (await srv.request('POST', `${base}/seats/block`, { admin: true, body: { seats: ['A-1'] }, idempotencyKey: k })).status,
      200,
    );
    const other = await viaSecond('POST', `${base}/seats/block`, { admin: true, body: { seats: ['A-2'] }, idempotencyKey: k });
    assert.equal(other.status, 422);
    assert.equal(other.body.error.code, 'IDEMPOTENCY_MISMATCH');
    const kc = key('change');
    assert.equal((await srv.request('PATCH', base, { admin: true, body: { title: 'One' }, idempotencyKey: kc })).status, 200);
    const change = await viaSecond('PATCH', base, { admin: true, body: { title: 'Two' }, idempotencyKey: kc });
    assert.equal(change.body.error.code, 'IDEMPOTENCY_MISMATCH');
    const show = (await srv.request('GET', base)).body;
    assert.equal(show.title, 'One');
    assert.equal(show.seats.find((s: { id: string }) => s.id === 'A-2').status, 'available');
  });
});
