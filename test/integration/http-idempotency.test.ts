import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/config.ts';
import { startGateway } from '../../src/gateway/index.ts';
import { logger } from '../../src/logger.ts';
import { request, showBody, startTestServer, type TestServer } from '../support/start-server.ts';

describe('http: idempotency keys', () => {
  let srv: TestServer;
  const statuses = async (showId: string): Promise<string> => (await srv.request('GET', `/v1/shows/${showId}?format=compact`)).body.seats;

  before(async () => {
    srv = await startTestServer();
    assert.equal((await srv.request('POST', '/v1/shows', { admin: true, body: showBody('s1') })).status, 201);
  });
  after(() => srv.stop());

  it('a retried hold gets the first response: same hold id and token, seats held once', async () => {
    const first = await srv.request('POST', '/v1/shows/s1/holds', { body: { count: 2 }, idempotencyKey: 'hold-1-0123456789abcdef' });
    const retry = await srv.request('POST', '/v1/shows/s1/holds', { body: { count: 2 }, idempotencyKey: 'hold-1-0123456789abcdef' });
    assert.equal(first.status, 201);
    assert.equal(retry.status, 201);
    assert.equal(retry.text, first.text);
    assert.equal((await statuses('s1')).split('h').length - 1, 2);
  });

  it('the same key with another body is IDEMPOTENCY_MISMATCH and changes nothing', async () => {
    const before = await statuses('s1');
    const res = await srv.request('POST', '/v1/shows/s1/holds', { body: { count: 3 }, idempotencyKey: 'hold-1-0123456789abcdef' });
    assert.equal(res.status, 422);
    assert.equal(res.body.error.code, 'IDEMPOTENCY_MISMATCH');
    assert.equal(await statuses('s1'), before);
  });

  it('concurrent duplicates run once and all get the first answer', async () => {
    const before = await statuses('s1');
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        srv.request('POST', '/v1/shows/s1/holds', { body: { count: 3 }, idempotencyKey: 'hold-concurrent-0123456789abcdef' }),
      ),
    );
    for (const a of answers) {
      assert.equal(a.status, 201);
      assert.equal(a.text, answers[0].text);
    }
    const after = await statuses('s1');
    assert.equal(after.split('h').length - before.split('h').length, 3);
  });

  it('errors replay too: a refused hold stays refused under its key', async () => {
    const blocker = (await srv.request('POST', '/v1/shows/s1/holds', { body: { seats: ['B-10'] } })).body;
    const first = await srv.request('POST', '/v1/shows/s1/holds', {
      body: { seats: ['B-10'] },
      idempotencyKey: 'hold-err-0123456789abcdef',
    });
    assert.equal(first.status, 409);
    assert.equal(first.body.error.code, 'SEAT_UNAVAILABLE');
    assert.equal((await srv.request('DELETE', `/v1/shows/s1/holds/${blocker.holdId}`, { holdToken: blocker.holdToken })).status, 204);
    const retry = await srv.request('POST', '/v1/shows/s1/holds', {
      body: { seats: ['B-10'] },
      idempotencyKey: 'hold-err-0123456789abcdef',
    });
    assert.equal(retry.status, 409);
    assert.equal(retry.text, first.text);
    assert.equal((await statuses('s1'))[19], 'a');
  });

  it('confirm, extend and release replay their first answers', async () => {
    const hold = (await srv.request('POST', '/v1/shows/s1/holds', { body: { seats: ['B-1', 'B-2'] } })).body;
    const base = `/v1/shows/s1/holds/${hold.holdId}`;
    const ext1 = await srv.request('POST', `${base}/extend`, {
      holdToken: hold.holdToken,
      body: { ttlSeconds: 900 },
      idempotencyKey: 'ext-0123456789abcdef',
    });
    const ext2 = await srv.request('POST', `${base}/extend`, {
      holdToken: hold.holdToken,
      body: { ttlSeconds: 900 },
      idempotencyKey: 'ext-0123456789abcdef',
    });
    assert.equal(ext1.status, 200);
    assert.equal(ext2.text, ext1.text);
    const c1 = await srv.request('POST', `${base}/confirm`, {
      holdToken: hold.holdToken,
      body: { paymentRef: 'p1' },
      idempotencyKey: 'conf-0123456789abcdef',
    });
    const c2 = await srv.request('POST', `${base}/confirm`, {
      holdToken: hold.holdToken,
      body: { paymentRef: 'p1' },
      idempotencyKey: 'conf-0123456789abcdef',
    });
    assert.equal(c1.status, 201);
    assert.equal(c2.text, c1.text);
    const mismatch = await srv.request('POST', `${base}/confirm`, {
      holdToken: hold.holdToken,
      body: { paymentRef: 'p2' },
      idempotencyKey: 'conf-0123456789abcdef',
    });
    assert.equal(mismatch.body.error.code, 'IDEMPOTENCY_MISMATCH');

    const other = (await srv.request('POST', '/v1/shows/s1/holds', { body: { seats: ['B-3'] } })).body;
    const r1 = await srv.request('DELETE', `/v1/shows/s1/holds/${other.holdId}`, {
      holdToken: other.holdToken,
      idempotencyKey: 'rel-0123456789abcdef',
    });
    const r2 = await srv.request('DELETE', `/v1/shows/s1/holds/${other.holdId}`, {
      holdToken: other.holdToken,
      idempotencyKey: 'rel-0123456789abcdef',
    });
    assert.equal(r1.status, 204);
    assert.equal(r2.status, 204);
  });

  it('one key reused for two holds confirms each hold, not the first one twice', async () => {
    assert.equal((await srv.request('POST', '/v1/shows', { admin: true, body: showBody('s2') })).status, 201);
    const h1 = (await srv.request('POST', '/v1/shows/s2/holds', { body: { seats: ['A-1'] } })).body;
    const h2 = (await srv.request('POST', '/v1/shows/s2/holds', { body: { seats: ['A-2'] } })).body;
    const b1 = await srv.request('POST', `/v1/shows/s2/holds/${h1.holdId}/confirm`, {
      holdToken: h1.holdToken,
      idempotencyKey: 'checkout-7-0123456789abcdef',
    });
    const b2 = await srv.request('POST', `/v1/shows/s2/holds/${h2.holdId}/confirm`, {
      holdToken: h2.holdToken,
      idempotencyKey: 'checkout-7-0123456789abcdef',
    });
    assert.equal(b1.status, 201);
    assert.equal(b2.status, 201);
    assert.deepEqual(b2.body.seats, ['A-2']);
    assert.equal((await statuses('s2')).slice(0, 2), 'bb');
  });

  it('admin writes replay; the same key from a caller without credentials is refused, not replayed', async () => {
    const body = { seats: ['A-10'] };
    const first = await srv.request('POST', '/v1/shows/s1/seats/block', { admin: true, body, idempotencyKey: 'blk-0123456789abcdef' });
    const retry = await srv.request('POST', '/v1/shows/s1/seats/block', { admin: true, body, idempotencyKey: 'blk-0123456789abcdef' });
    assert.equal(first.status, 200);
    assert.equal(retry.text, first.text);
    const anon = await srv.request('POST', '/v1/shows/s1/seats/block', { body, idempotencyKey: 'blk-0123456789abcdef' });
    assert.equal(anon.status, 401);
    const other = await srv.request('POST', '/v1/shows/s1/seats/block', {
      admin: true,
      body: { seats: ['A-9'] },
      idempotencyKey: 'blk-0123456789abcdef',
    });
    assert.equal(other.body.error.code, 'IDEMPOTENCY_MISMATCH');
    assert.equal((await statuses('s1'))[8], 'a');
  });

  it('a retry through another gateway (empty cache) still gets the same hold from the show', async () => {
    const second = await startGateway({
      service: srv.service,
      config: { port: 0, host: '127.0.0.1', grpcPort: 0, maxBodyBytes: DEFAULT_MAX_BODY_BYTES },
      adminToken: srv.adminToken,
      logger,
    });
    try {
      const first = await srv.request('POST', '/v1/shows/s1/holds', { body: { seats: ['A-8'] }, idempotencyKey: 'cross-0123456789abcdef' });
      const retry = await request(second.url, srv.adminToken, 'POST', '/v1/shows/s1/holds', {
        body: { seats: ['A-8'] },
        idempotencyKey: 'cross-0123456789abcdef',
      });
      assert.equal(retry.status, 201);
      assert.equal(retry.body.holdId, first.body.holdId);
      assert.equal(retry.body.holdToken, first.body.holdToken);
      assert.deepEqual(retry.body.seats, ['A-8']);
    } finally {
      await second.close(1_000);
    }
  });

  it('the cache is bounded: least recently used keys are forgotten first', async () => {
    const small = await startTestServer({ idempotency: { maxEntries: 2 } });
    try {
      assert.equal((await small.request('POST', '/v1/shows', { admin: true, body: showBody('s1') })).status, 201);
      for (const key of ['k1', 'k2', 'k3'].map((k) => `${k}-0123456789abcdef`))
        await small.request('POST', '/v1/shows/s1/holds', { body: { count: 1 }, idempotencyKey: key });
      assert.equal(small.gateway.http.idempotency.size, 2);
    } finally {
      await small.stop();
    }
  });
});
