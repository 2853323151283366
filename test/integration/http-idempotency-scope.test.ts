import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/gateway/index.ts';
import { logger } from '../../src/logger.ts';
import { request, showBody, startTestServer, type TestServer } from '../support/start-server.ts';

/**
 * Idempotency keys belong to their caller. The server trusts 127.0.0.1 as a proxy, so each
 * test client names its address with X-Forwarded-For, as clients behind a load balancer do.
 */
describe('http: an idempotency key belongs to its caller', () => {
  let srv: TestServer;
  let second: Gateway;
  const from = (address: string) => ({ 'x-forwarded-for': address });
  const compact = async (): Promise<string> => (await srv.request('GET', '/v1/shows/s1?format=compact')).body.seats;
  const heldCount = async () => (await compact()).split('').filter((c) => c === 'h').length;

  before(async () => {
    srv = await startTestServer({ trustedProxies: ['127.0.0.1'] });
    assert.equal((await srv.request('POST', '/v1/shows', { admin: true, body: showBody('s1', {}, 4, 10) })).status, 201);
    // A second gateway on the same node: its cache is empty, so only the show can answer a retry.
    second = await startGateway({
      service: srv.node.service,
      config: { port: 0, host: '127.0.0.1', grpcPort: 0, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, trustedProxies: ['127.0.0.1'] },
      adminToken: srv.adminToken,
      logger,
    });
  });
  after(async () => {
    await second.close(1_000);
    await srv.stop();
  });

  it('another caller sending the same key and body gets a hold of its own, never the first one', async () => {
    const key = 'checkout-0001-0123456789';
    const a = await srv.request('POST', '/v1/shows/s1/holds', { body: { count: 2 }, idempotencyKey: key, headers: from('203.0.113.1') });
    const held = await heldCount();
    const b = await srv.request('POST', '/v1/shows/s1/holds', { body: { count: 2 }, idempotencyKey: key, headers: from('203.0.113.2') });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.notEqual(b.body.holdId, a.body.holdId);
    assert.notEqual(b.body.holdToken, a.body.holdToken);
    assert.ok(!b.text.includes(a.body.holdToken));
    assert.equal(await heldCount(), held + 2);
    // The second caller's token does not open the first caller's hold.
    const steal = await srv.request('POST', `/v1/shows/s1/holds/${a.body.holdId}/confirm`, {
      holdToken: b.body.holdToken,
      headers: from('203.0.113.2'),
    });
    assert.equal(steal.status, 403);
    assert.equal(steal.body.error.code, 'FORBIDDEN');
  });

  it('named seats: the other caller is refused SEAT_UNAVAILABLE instead of being handed the hold', async () => {
    const key = 'checkout-0002-0123456789';
    const a = await srv.request('POST', '/v1/shows/s1/holds', {
      body: { seats: ['C-1', 'C-2'] },
      idempotencyKey: key,
      headers: from('203.0.113.1'),
    });
    const b = await srv.request('POST', '/v1/shows/s1/holds', {
      body: { seats: ['C-1', 'C-2'] },
      idempotencyKey: key,
      headers: from('203.0.113.2'),
    });
    assert.equal(a.status, 201);
    assert.equal(b.status, 409);
    assert.equal(b.body.error.code, 'SEAT_UNAVAILABLE');
    assert.ok(!b.text.includes(a.body.holdId));
  });

  it('the show scopes keys too: through a gateway with an empty cache another caller still gets nothing of the first', async () => {
    const key = 'checkout-0003-0123456789';
    const a = await srv.request('POST', '/v1/shows/s1/holds', {
      body: { seats: ['D-1'] },
      idempotencyKey: key,
      headers: from('203.0.113.1'),
    });
    const b = await request(second.url, srv.adminToken, 'POST', '/v1/shows/s1/holds', {
      body: { seats: ['D-1'] },
      idempotencyKey: key,
      headers: from('203.0.113.2'),
    });
    assert.equal(a.status, 201);
    assert.equal(b.status, 409);
    assert.equal(b.body.error.code, 'SEAT_UNAVAILABLE');
    assert.ok(!b.text.includes(a.body.holdToken));
    // The same caller retrying through the other gateway gets its hold back from the show.
    const retry = await request(second.url, srv.adminToken, 'POST', '/v1/shows/s1/holds', {
      body: { seats: ['D-1'] },
      idempotencyKey: key,
      headers: from('203.0.113.1'),
    });
    assert.equal(retry.status, 201);
    assert.equal(retry.body.holdId, a.body.holdId);
    assert.equal(retry.body.holdToken, a.body.holdToken);
  });

  it('the same caller retrying gets the same hold, byte for byte', async () => {
    const key = 'checkout-0004-0123456789';
    const a = await srv.request('POST', '/v1/shows/s1/holds', { body: { count: 1 }, idempotencyKey: key, headers: from('198.51.100.7') });
    const held = await heldCount();
    const again = await srv.request('POST', '/v1/shows/s1/holds', {
      body: { count: 1 },
      idempotencyKey: key,
      headers: from('198.51.100.7'),
    });
    assert.equal(a.status, 201);
    assert.equal(again.text, a.text);
    assert.equal(await heldCount(), held);
  });

  it('keys outside 16-128 printable ASCII characters are refused on every write and change nothing', async () => {
    const hold = (await srv.request('POST', '/v1/shows/s1/holds', { body: { seats: ['B-9'] } })).body;
    for (const key of ['k', 'x'.repeat(15), 'x'.repeat(129)]) {
      const before = await compact();
      const h = await srv.request('POST', '/v1/shows/s1/holds', { body: { count: 1 }, idempotencyKey: key });
      assert.equal(h.status, 400, key);
      assert.equal(h.body.error.code, 'INVALID_ARGUMENT');
      const c = await srv.request('POST', `/v1/shows/s1/holds/${hold.holdId}/confirm`, { holdToken: hold.holdToken, idempotencyKey: key });
      assert.equal(c.status, 400);
      assert.equal(c.body.error.code, 'INVALID_ARGUMENT');
      const r = await srv.request('DELETE', `/v1/shows/s1/holds/${hold.holdId}`, { holdToken: hold.holdToken, idempotencyKey: key });
      assert.equal(r.status, 400);
      assert.equal(await compact(), before);
    }
    const sixteen = await srv.request('POST', '/v1/shows/s1/holds', { body: { count: 1 }, idempotencyKey: 'x'.repeat(16) });
    assert.equal(sixteen.status, 201);
  });
});
