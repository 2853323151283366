import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HoldTokens } from '../../src/service/hold-tokens.ts';
import { TEST_HOLD_TOKEN_SECRET, showBody, startTestServer, type TestServer } from '../support/start-server.ts';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * A server socket's writes to its handle: node's net.Socket sends both a single chunk (_write)
 * and a corked batch (_writev) through _writeGeneric, one write or writev call each.
 */
function countWrites(socket: Socket, counter: { writes: number }): void {
  const s = socket as unknown as { _writeGeneric: (...a: unknown[]) => unknown };
  const original = s._writeGeneric.bind(socket);
  s._writeGeneric = (...a) => {
    counter.writes++;
    return original(...a);
  };
}

describe('http: replies on the wire', () => {
  let srv: TestServer;
  const counter = { writes: 0 };
  // One keep-alive socket for every request, so the server's writes on it are all ours.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const tokens = new HoldTokens(TEST_HOLD_TOKEN_SECRET);
  let key = 0;

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Raw> =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const h: Record<string, string | number> = { 'idempotency-key': `replies-test-key-${key++}`, ...headers };
      if (text !== undefined) {
        h['content-type'] = 'application/json';
        h['content-length'] = Buffer.byteLength(text);
      }
      const u = new URL(path, srv.url);
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(text);
    });

  /** Runs `fn` and returns how many socket writes the server made meanwhile. */
  const writesOf = async <T>(fn: () => Promise<T>): Promise<{ writes: number; value: T }> => {
    const before = counter.writes;
    const value = await fn();
    return { writes: counter.writes - before, value };
  };

  before(async () => {
    srv = await startTestServer();
    srv.gateway.server.on('connection', (socket: Socket) => countWrites(socket, counter));
    const r = await srv.request('POST', '/v1/shows', { admin: true, body: showBody('wire', {}, 2, 10) });
    assert.equal(r.status, 201);
  });
  after(async () => {
    agent.destroy();
    await srv.stop();
  });

  it('a hold answers 201 with the documented fields in order, serialized as JSON.stringify would, and a token that verifies', async () => {
    const { writes, value: r } = await writesOf(() => call('POST', '/v1/shows/wire/holds', { seats: ['A-1', 'A-2'] }));
    assert.equal(r.status, 201);
    assert.equal(writes, 1, 'headers and body in one write');
    const body = JSON.parse(r.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['holdId', 'seats', 'expiresAt', 'price', 'holdToken']);
    assert.equal(r.text, JSON.stringify(body));
    assert.deepEqual(body.seats, ['A-1', 'A-2']);
    assert.equal(tokens.verify('wire', body.holdId as string, body.holdToken as string), true);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(Number(r.headers['content-length']), Buffer.byteLength(r.text));
  });

  it('a hold with a customer keeps customerId before the token', async () => {
    const r = await call('POST', '/v1/shows/wire/holds', { seats: ['A-3'], customerId: 'a "quoted" customer' });
    assert.equal(r.status, 201);
    const body = JSON.parse(r.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['holdId', 'seats', 'expiresAt', 'price', 'customerId', 'holdToken']);
    assert.equal(body.customerId, 'a "quoted" customer');
    assert.equal(r.text, JSON.stringify(body));
  });

  it('confirm (201), release (204), errors (403, 409, 404) and a seat map each leave in one write', async () => {
    const held = JSON.parse((await call('POST', '/v1/shows/wire/holds', { seats: ['A-4'] })).text) as { holdId: string; holdToken: string };
    const confirm = await writesOf(() => call('POST', `/v1/shows/wire/holds/${held.holdId}/confirm`, {}, { 'hold-token': held.holdToken }));
    assert.equal(confirm.value.status, 201);
    assert.equal(confirm.writes, 1);
    const booking = JSON.parse(confirm.value.text) as Record<string, unknown>;
    assert.equal(confirm.value.text, JSON.stringify(booking));
    assert.equal(tokens.verifyBooking('wire', booking.bookingId as string, booking.bookingToken as string), true);

    const other = JSON.parse((await call('POST', '/v1/shows/wire/holds', { seats: ['A-5'] })).text) as {
      holdId: string;
      holdToken: string;
    };
    const tamperedToken = (other.holdToken[0] === 'A' ? 'B' : 'A') + other.holdToken.slice(1);
    const forbidden = await writesOf(() =>
      call('DELETE', `/v1/shows/wire/holds/${other.holdId}`, undefined, { 'hold-token': tamperedToken }),
    );
    assert.equal(forbidden.value.status, 403);
    assert.equal(forbidden.writes, 1);
    assert.equal(
      forbidden.value.text,
      JSON.stringify({ error: { code: 'FORBIDDEN', message: 'the hold token does not match this hold' } }),
    );

    const release = await writesOf(() =>
      call('DELETE', `/v1/shows/wire/holds/${other.holdId}`, undefined, { 'hold-token': other.holdToken }),
    );
    assert.equal(release.value.status, 204);
    assert.equal(release.value.text, '');
    assert.equal(release.value.headers['x-content-type-options'], 'nosniff');
    assert.equal(release.writes, 1);

    const taken = await writesOf(() => call('POST', '/v1/shows/wire/holds', { seats: ['A-4', 'A-6'] }));
    assert.equal(taken.value.status, 409);
    assert.equal(taken.writes, 1);
    const err = JSON.parse(taken.value.text) as { error: { code: string; message: string; seats: string[] } };
    assert.equal(err.error.code, 'SEAT_UNAVAILABLE');
    assert.deepEqual(err.error.seats, ['A-4']);
    assert.deepEqual(Object.keys(err.error), ['code', 'message', 'seats']);
    assert.equal(taken.value.text, JSON.stringify(err));

    const missing = await writesOf(() => call('GET', '/v1/shows/nope'));
    assert.equal(missing.value.status, 404);
    assert.equal(missing.writes, 1);

    const map = await writesOf(() => call('GET', '/v1/shows/wire'));
    assert.equal(map.value.status, 200);
    assert.equal(map.writes, 1, 'a shared serialized view goes out with its headers');
    assert.equal(map.value.headers['x-content-type-options'], 'nosniff');
    assert.equal((JSON.parse(map.value.text) as { id: string }).id, 'wire');
  });

  it('a retried hold replays the first answer byte for byte', async () => {
    const h = { 'idempotency-key': 'replies-test-retry-key-1' };
    const first = await call('POST', '/v1/shows/wire/holds', { seats: ['B-1'] }, h);
    const again = await call('POST', '/v1/shows/wire/holds', { seats: ['B-1'] }, h);
    assert.equal(first.status, 201);
    assert.equal(again.status, 201);
    assert.equal(again.text, first.text);
    const other = await call('POST', '/v1/shows/wire/holds', { seats: ['B-2'] }, h);
    assert.equal(other.status, 422, 'another body under the key');
  });
});
