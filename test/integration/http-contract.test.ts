import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { buildAsyncApi } from '../../src/contract/asyncapi.ts';
import { allOperations, buildOpenApi } from '../../src/contract/openapi.ts';
import { ErrorBody } from '../../src/contract/responses.ts';
import type { Operation } from '../../src/gateway/http/operation.ts';
import { ROUTES } from '../../src/gateway/http/routes.ts';
import { showBody, startTestServer, type TestResponse, type TestServer } from '../support/start-server.ts';
import { undescribed } from '../support/undescribed.ts';

/** The router's answer for a path it has no route for. */
const isNoRoute = (res: TestResponse) => res.status === 404 && res.body?.error?.code === 'NOT_FOUND';

/** A path template with its parameters filled in (ids that pass the path checks). */
const fill = (path: string) => path.replace(/\{(\w+)\}/g, (_, name: string) => (name === 'seatId' ? 'A-1' : `probe-${name}`));

/** Checks a real answer against the operation's documented success (or error) schema. */
function assertDocumented(op: Operation, res: TestResponse): void {
  const documented = res.status === op.success.status ? op.success.schema : res.status >= 400 ? ErrorBody : undefined;
  assert.ok(res.status === op.success.status || res.status >= 400, `${op.name}: ${res.status} is a documented status`);
  if (!documented) {
    assert.equal(res.text, '', `${op.name}: no body`);
    return;
  }
  const parsed = documented.safeParse(res.body);
  assert.ok(parsed.success, `${op.name} ${res.status}: ${parsed.success ? '' : parsed.error.message}`);
  assert.deepEqual(undescribed(documented, res.body), [], `${op.name} ${res.status}: every field is described`);
}

const opNamed = (name: string) => {
  const op = ROUTES.find((r) => r.name === name);
  assert.ok(op, name);
  return op;
};

describe('http: the API description matches the server', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.stop());

  it('serves both descriptions without auth, cacheable, revalidated by ETag', async () => {
    for (const [path, build] of [
      ['/v1/openapi.json', buildOpenApi],
      ['/v1/asyncapi.json', buildAsyncApi],
    ] as const) {
      const res = await srv.request('GET', path);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      assert.match(res.headers.get('cache-control') ?? '', /public/);
      assert.deepEqual(res.body, JSON.parse(JSON.stringify(build())));
      const etag = res.headers.get('etag');
      assert.ok(etag);
      const again = await srv.request('GET', path, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304);
    }
  });

  it('answers every documented operation with a route (never "no such route"), and Allow lists exactly the documented methods', async () => {
    const byPath = new Map<string, string[]>();
    for (const op of allOperations()) byPath.set(op.path, [...(byPath.get(op.path) ?? []), op.method]);
    for (const op of allOperations()) {
      if (op.success.status === 101) {
        // The WebSocket upgrade: the probe is a socket that opens.
        const ws = new WebSocket(`${srv.url.replace('http', 'ws')}${op.path}`);
        await once(ws, 'open');
        ws.close();
        continue;
      }
      const res = await srv.request(op.method, fill(op.path), op.body === 'required' ? { body: {} } : {});
      assert.ok(!isNoRoute(res), `${op.method} ${op.path} is routed (got ${res.status} ${res.text.slice(0, 80)})`);
      assert.notEqual(res.status, 405, `${op.method} ${op.path} is served`);
    }
    for (const [path, methods] of byPath) {
      if (!path.startsWith('/v1/shows')) continue;
      const res = await srv.request('PUT', fill(path), { body: {} });
      assert.equal(res.status, 405, `PUT ${path}`);
      const allowed = (res.headers.get('allow') ?? '').split(', ').sort();
      // `bookings/cancel` also reads as a booking id: its GET is getBooking's.
      const expected = path.endsWith('/bookings/cancel') ? [...methods, 'GET'] : methods;
      assert.deepEqual(allowed, [...expected].sort(), `Allow of ${path}`);
    }
  });

  it('answers paths the description does not have with "no such route"', async () => {
    const undocumented = [
      '/v1/show',
      '/v2/shows',
      '/v1/shows/s1/holdz',
      '/v1/shows/s1/holds/h1/confirm/now',
      '/v1/shows/s1/holds/h1/pay',
      '/v1/shows/s1/seats/A-1',
      '/v1/shows/s1/seats/A-1/future',
      '/v1/shows/s1/bookings/b1/refund',
      '/v1/shows/s1/report/today',
      '/v1/openapi.yaml',
      '/v1/asyncapi',
    ];
    const doc = buildOpenApi() as { paths: Record<string, unknown> };
    for (const path of undocumented) {
      assert.equal(doc.paths[path], undefined, `${path} is not documented`);
      for (const method of ['GET', 'POST']) {
        const res = await srv.request(method, path, method === 'POST' ? { body: {} } : {});
        assert.ok(isNoRoute(res), `${method} ${path} has no route (got ${res.status})`);
      }
    }
  });

  it('answers a small scenario in the documented shapes: create, read, hold, confirm, booking, 409, report, cancel', async () => {
    // The field check itself can fail.
    assert.deepEqual(undescribed(ErrorBody, { error: { code: 'INTERNAL', message: 'x', extra: 1 } }), ['.error.extra']);
    const check = async (name: string, method: string, path: string, opts: Parameters<TestServer['request']>[2] = {}) => {
      const res = await srv.request(method, path, opts);
      assertDocumented(opNamed(name), res);
      return res;
    };
    const created = await check('createShow', 'POST', '/v1/shows', { admin: true, body: showBody('contract') });
    assert.equal(created.status, 201);
    assert.equal((await check('getShow', 'GET', '/v1/shows/contract')).status, 200);
    assert.equal((await check('getShow', 'GET', '/v1/shows/contract?format=compact')).status, 200);
    assert.equal((await check('listShows', 'GET', '/v1/shows?city=Mumbai')).status, 200);
    const hold = await check('hold', 'POST', '/v1/shows/contract/holds', { body: { seats: ['A-1', 'A-2'], customerId: 'c-1' } });
    assert.equal(hold.status, 201);
    const holdPath = `/v1/shows/contract/holds/${hold.body.holdId}`;
    assert.equal(
      (await check('extendHold', 'POST', `${holdPath}/extend`, { holdToken: hold.body.holdToken, body: { ttlSeconds: 120 } })).status,
      200,
    );
    const booking = await check('confirm', 'POST', `${holdPath}/confirm`, { holdToken: hold.body.holdToken, body: { paymentRef: 'p-1' } });
    assert.equal(booking.status, 201);
    const bookingPath = `/v1/shows/contract/bookings/${booking.body.bookingId}`;
    assert.equal((await check('getBooking', 'GET', bookingPath, { headers: { 'booking-token': booking.body.bookingToken } })).status, 200);
    const taken = await check('hold', 'POST', '/v1/shows/contract/holds', { body: { seats: ['A-2', 'A-3'] } });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.error.code, 'SEAT_UNAVAILABLE');
    const other = await check('hold', 'POST', '/v1/shows/contract/holds', { body: { count: 2 } });
    assert.equal(
      (await check('release', 'DELETE', `/v1/shows/contract/holds/${other.body.holdId}`, { holdToken: other.body.holdToken })).status,
      204,
    );
    assert.equal(
      (await check('blockSeats', 'POST', '/v1/shows/contract/seats/block', { admin: true, body: { seats: ['B-1'] } })).status,
      200,
    );
    assert.equal((await check('getReport', 'GET', '/v1/shows/contract/report', { admin: true })).status, 200);
    assert.equal((await check('getSeatHistory', 'GET', '/v1/shows/contract/seats/A-1/history', { admin: true })).status, 200);
    assert.equal((await check('listBookings', 'GET', '/v1/shows/contract/bookings', { admin: true })).status, 200);
    const cancelled = await check('cancelBooking', 'POST', `${bookingPath}/cancel`, {
      headers: { 'booking-token': booking.body.bookingToken },
    });
    assert.equal(cancelled.status, 200);
    assert.equal((await check('changeShow', 'PATCH', '/v1/shows/contract', { admin: true, body: { title: 'Renamed' } })).status, 200);
    assert.equal((await check('cancelShow', 'DELETE', '/v1/shows/contract', { admin: true, body: { reason: 'rain' } })).status, 200);
    assert.equal((await check('getBooking', 'GET', '/v1/shows/contract/bookings/nope')).status, 404);
  });
});
