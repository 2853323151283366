import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { openFileLimit } from '../../src/gateway/limits/index.ts';
import { showBody, startTestServer, type TestServer } from '../support/start-server.ts';
import { TestClient, startWsServer } from './ws-harness.ts';

/**
 * The WebSocket door's limits: who may upgrade (origin, sockets per address) and how often a
 * socket may hold. Other client addresses are named with X-Forwarded-For through the trusted
 * proxy 127.0.0.1.
 */
const SOCKETS_PER_ADDRESS = 3;
const HOLDS_PER_MINUTE = 4;

/** Resolves with the HTTP status of the upgrade: 101 when it opened (then closes it), else the refusal. */
function upgradeStatus(
  url: string,
  headers: Record<string, string> = {},
  origin?: string,
): Promise<{ status: number; retryAfter: string | undefined; ws: WebSocket | null }> {
  const ws = new WebSocket(url, { headers, perMessageDeflate: false, origin });
  ws.on('error', () => {});
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ status: 101, retryAfter: undefined, ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, ws: null });
      res.resume();
    });
  });
}

async function connectFrom(url: string, address: string): Promise<TestClient> {
  const c = await TestClient.connect(url, { 'x-forwarded-for': address });
  return c;
}

describe('ws: edge limits', () => {
  let srv: TestServer;
  let wsUrl: string;
  before(async () => {
    srv = await startTestServer({
      edge: {
        trustedProxies: ['127.0.0.1'],
        allowedOrigins: ['https://tickets.example'],
        wsMaxSocketsPerAddress: SOCKETS_PER_ADDRESS,
        rateLimitHoldsPerMinute: HOLDS_PER_MINUTE,
      },
    });
    wsUrl = `${srv.url.replace('http', 'ws')}/v1/ws`;
    assert.equal((await srv.request('POST', '/v1/shows', { admin: true, body: showBody('s1', {}, 4, 20) })).status, 201);
  });
  after(() => srv.stop());

  it('an upgrade from a foreign page is refused with 403 before it opens; same origin, listed origins and no Origin are let in', async () => {
    const evil = await upgradeStatus(wsUrl, { 'x-forwarded-for': '203.0.113.1' }, 'https://evil.example');
    assert.equal(evil.status, 403);
    assert.equal((await upgradeStatus(wsUrl, { 'x-forwarded-for': '203.0.113.1' }, 'null')).status, 403);
    const host = new URL(srv.url).host;
    const opened = [
      await upgradeStatus(wsUrl, { 'x-forwarded-for': '203.0.113.2' }, `http://${host}`),
      await upgradeStatus(wsUrl, { 'x-forwarded-for': '203.0.113.3' }, 'https://tickets.example'),
      await upgradeStatus(wsUrl, { 'x-forwarded-for': '203.0.113.4' }),
    ];
    assert.deepEqual(
      opened.map((o) => o.status),
      [101, 101, 101],
    );
    for (const o of opened) o.ws?.close();
  });

  it('one address gets at most its share of sockets (429 with Retry-After); others still connect; a closed socket frees its slot', async () => {
    const mine = await Promise.all(Array.from({ length: SOCKETS_PER_ADDRESS }, () => connectFrom(wsUrl, '198.51.100.7')));
    const over = await upgradeStatus(wsUrl, { 'x-forwarded-for': '198.51.100.7' });
    assert.equal(over.status, 429);
    assert.ok(Number(over.retryAfter) >= 1);
    const other = await upgradeStatus(wsUrl, { 'x-forwarded-for': '198.51.100.8' });
    assert.equal(other.status, 101);
    other.ws?.close();
    mine[0].close();
    await mine[0].closed;
    // The server frees the slot on its own close event; retry until it has.
    let again = await upgradeStatus(wsUrl, { 'x-forwarded-for': '198.51.100.7' });
    for (let i = 0; again.status === 429 && i < 50; i++) {
      await new Promise((r) => setImmediate(r));
      again = await upgradeStatus(wsUrl, { 'x-forwarded-for': '198.51.100.7' });
    }
    assert.equal(again.status, 101);
    again.ws?.close();
    for (const c of mine.slice(1)) c.close();
  });

  it('hold commands over the limit get an error frame RATE_LIMITED with retryAfterSeconds; nothing is held for them', async () => {
    const c = await connectFrom(wsUrl, '192.0.2.44');
    try {
      const before = (await srv.service.getShow('s1')).seats.filter((s) => s.status === 'held').length;
      const replies = await Promise.all(
        Array.from({ length: HOLDS_PER_MINUTE + 6 }, () => c.request({ type: 'hold', showId: 's1', count: 1 })),
      );
      const results = replies.filter((f) => f.type === 'result');
      const errors = replies.filter((f) => f.type === 'error');
      assert.equal(results.length, HOLDS_PER_MINUTE);
      assert.equal(errors.length, 6);
      for (const e of errors) {
        assert.equal(e.code, 'RATE_LIMITED');
        assert.ok(Number.isInteger(e.retryAfterSeconds) && e.retryAfterSeconds >= 1);
        assert.ok(typeof e.requestId === 'string');
      }
      const after = (await srv.service.getShow('s1')).seats.filter((s) => s.status === 'held').length;
      assert.equal(after - before, HOLDS_PER_MINUTE);
      // The socket stays usable: releases are not counted.
      const release = await c.request({ type: 'release', showId: 's1', holdId: results[0].holdId, holdToken: results[0].holdToken });
      assert.equal(release.type, 'result');
    } finally {
      c.close();
    }
  });
});

describe('ws: the socket cap fits the file limit', () => {
  it('the default 50,000 sockets is lowered below RLIMIT_NOFILE where that is lower', async (t) => {
    const limit = openFileLimit();
    if (limit === null) return t.skip('no /proc/self/limits here');
    const srv = await startWsServer({ ws: { maxSockets: 50_000 } });
    try {
      assert.ok(srv.ws.caps.maxSockets < limit, `cap ${srv.ws.caps.maxSockets} vs file limit ${limit}`);
      assert.ok(srv.ws.caps.maxSockets <= 50_000);
    } finally {
      await srv.stop();
    }
  });
});
