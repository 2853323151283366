import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { spawnServer } from '../../testkit/spawn-server.ts';
import { showBody, startTestServer, type TestServer } from '../support/start-server.ts';

/**
 * The HTTP door's limits. Every client here comes from 127.0.0.1; other client addresses are
 * named with X-Forwarded-For, believed because 127.0.0.1 is configured as a trusted proxy.
 */
const HOLDS_PER_MINUTE = 12;
const CUSTOMER_HOLDS_PER_MINUTE = 5;
const ADMIN_FAILURES = 4;
const METRICS_TOKEN = 'metrics-token-0123456789';

const from = (address: string) => ({ 'x-forwarded-for': address });

describe('http: edge limits', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({
      edge: {
        trustedProxies: ['127.0.0.1'],
        rateLimitHoldsPerMinute: HOLDS_PER_MINUTE,
        rateLimitCustomerHoldsPerMinute: CUSTOMER_HOLDS_PER_MINUTE,
        rateLimitAdminFailuresPerMinute: ADMIN_FAILURES,
        metricsToken: METRICS_TOKEN,
      },
    });
    // 10 rows of 20: room for every hold below.
    assert.equal((await srv.request('POST', '/v1/shows', { admin: true, body: showBody('s1', {}, 10, 20) })).status, 201);
  });
  after(() => srv.stop());

  const heldSeats = async () => (await srv.service.getShow('s1')).seats.filter((s) => s.status === 'held').length;

  it('one address hammering holds concurrently gets exactly its budget; the rest is 429 with Retry-After and holds nothing', async () => {
    const before = await heldSeats();
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => srv.request('POST', '/v1/shows/s1/holds', { body: { count: 1 }, headers: from('203.0.113.1') })),
    );
    const ok = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 429);
    assert.equal(ok.length, HOLDS_PER_MINUTE);
    assert.equal(refused.length, 60 - HOLDS_PER_MINUTE);
    for (const r of refused) {
      assert.equal(r.body.error.code, 'RATE_LIMITED');
      const retryAfter = Number(r.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${r.headers.get('retry-after')}`);
      assert.equal(r.body.error.retryAfterSeconds, retryAfter);
    }
    // Invariant: the show holds exactly the answered holds' seats.
    assert.equal((await heldSeats()) - before, HOLDS_PER_MINUTE);
    // The limit is per address: another client is served.
    assert.equal((await srv.request('POST', '/v1/shows/s1/holds', { body: { count: 1 }, headers: from('203.0.113.2') })).status, 201);
  });

  it('a customer id has its own budget across addresses', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < CUSTOMER_HOLDS_PER_MINUTE + 2; i++) {
      const r = await srv.request('POST', '/v1/shows/s1/holds', {
        body: { count: 1, customerId: 'cust-7' },
        headers: from(`198.51.100.${i + 1}`),
      });
      statuses.push(r.status);
      if (r.status === 429) assert.equal(r.body.error.code, 'RATE_LIMITED');
    }
    assert.deepEqual(statuses, [...Array(CUSTOMER_HOLDS_PER_MINUTE).fill(201), 429, 429]);
  });

  it('wrong admin tokens are throttled per address, then even the right token is refused from it', async () => {
    const guess = (token: string, address: string) =>
      srv.request('DELETE', '/v1/shows/nope', { headers: { ...from(address), authorization: `Bearer ${token}` } });
    for (let i = 0; i < ADMIN_FAILURES; i++) assert.equal((await guess(`wrong-${i}-0123456789abcdef`, '192.0.2.9')).status, 403);
    const throttled = await guess('wrong-x-0123456789abcdef', '192.0.2.9');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.body.error.code, 'RATE_LIMITED');
    assert.ok(Number(throttled.headers.get('retry-after')) >= 1);
    // A right guess from that address cannot be told apart now.
    assert.equal((await guess(srv.adminToken, '192.0.2.9')).status, 429);
    // Other addresses and non-admin calls are unaffected.
    assert.equal((await guess(srv.adminToken, '192.0.2.10')).status, 404);
    assert.equal((await srv.request('GET', '/v1/shows/s1', { headers: from('192.0.2.9') })).status, 200);
  });

  it('/healthz and /readyz are never limited, even for a throttled address', async () => {
    for (let i = 0; i < HOLDS_PER_MINUTE + 5; i++)
      await srv.request('POST', '/v1/shows/s1/holds', { body: { count: 1 }, headers: from('203.0.113.50') });
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => srv.request('GET', i % 2 ? '/healthz' : '/readyz', { headers: from('203.0.113.50') })),
    );
    assert.ok(answers.every((a) => a.status === 200));
  });

  it('answers carry X-Content-Type-Options: nosniff (JSON, empty, errors, page)', async () => {
    const hold = await srv.request('POST', '/v1/shows/s1/holds', { body: { count: 1 }, headers: from('203.0.113.60') });
    const release = await srv.request('DELETE', `/v1/shows/s1/holds/${hold.body.holdId}`, {
      holdToken: hold.body.holdToken,
      headers: from('203.0.113.60'),
    });
    assert.equal(release.status, 204);
    const missing = await srv.request('GET', '/v1/shows/none');
    const page = await srv.request('GET', '/');
    for (const r of [hold, release, missing, page, await srv.request('GET', '/healthz')])
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  });

  it('/metrics asks for METRICS_TOKEN when it is set', async () => {
    assert.equal((await srv.request('GET', '/metrics')).status, 401);
    assert.equal((await srv.request('GET', '/metrics', { headers: { authorization: 'Bearer not-the-metrics-token-000' } })).status, 403);
    const ok = await srv.request('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /seats_rate_limited_total\{rule="holds-address"\} [1-9]/);
  });
});

describe('http: limits switched off and /metrics open by default', () => {
  it('RATE_LIMIT_HOLDS_PER_MINUTE=0 lets one address hold as often as it likes; /metrics without a token is open', async () => {
    const srv = await startTestServer({ edge: { rateLimitHoldsPerMinute: 0 } });
    try {
      await srv.request('POST', '/v1/shows', { admin: true, body: showBody('s1', {}, 10, 20) });
      const answers = await Promise.all(
        Array.from({ length: 150 }, () => srv.request('POST', '/v1/shows/s1/holds', { body: { count: 1 } })),
      );
      assert.ok(answers.every((a) => a.status === 201));
      assert.equal((await srv.request('GET', '/metrics')).status, 200);
    } finally {
      await srv.stop();
    }
  });
});

describe('start-up: ADMIN_TOKEN', () => {
  it('an ADMIN_TOKEN shorter than 16 characters stops the process at start', async () => {
    const lines: string[] = [];
    const outcome = await spawnServer({ ADMIN_TOKEN: 'short-123456789', DATA_DIR: '/nonexistent/never-used' }, (l) => lines.push(l)).then(
      (server) => server,
      (err: Error) => err,
    );
    if (!(outcome instanceof Error)) {
      await outcome.kill();
      assert.fail('the server started with a 15-character ADMIN_TOKEN');
    }
    assert.match(outcome.message, /exited \(1\)/);
    assert.ok(
      lines.some((l) => l.includes('ADMIN_TOKEN')),
      lines.join('\n'),
    );
  });
});
