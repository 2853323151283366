import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { showBody, startTestServer, type RequestOptions, type TestServer } from '../support/start-server.ts';

/** Sends a body in chunks without a Content-Length; resolves with the status and the error code. */
function sendChunked(url: string, path: string, chunks: Buffer[]): Promise<{ status: number; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url + path,
      { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, code: JSON.parse(text).error?.code }));
      },
    );
    // The server may close the connection once it has answered; that is the point.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

describe('http: bad input is refused with a stable code and changes nothing', () => {
  let srv: TestServer;
  let hold: { holdId: string; holdToken: string };
  const state = async () => {
    const map = (await srv.request('GET', '/v1/shows/s1?format=compact')).body;
    return { version: map.version, seats: map.seats };
  };
  /** Runs a request that must fail with `status`/`code` and leave show s1 exactly as it was. */
  const refused = async (method: string, path: string, opts: RequestOptions, status: number, code: string) => {
    const before = await state();
    const res = await srv.request(method, path, opts);
    assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
    assert.equal(res.body.error.code, code, `${method} ${path}`);
    assert.equal(typeof res.body.error.message, 'string');
    assert.deepEqual(await state(), before, `${method} ${path} changed the show`);
    return res;
  };

  before(async () => {
    srv = await startTestServer();
    assert.equal((await srv.request('POST', '/v1/shows', { admin: true, body: showBody('s1') })).status, 201);
    hold = (await srv.request('POST', '/v1/shows/s1/holds', { body: { seats: ['A-1'] } })).body;
  });
  after(() => srv.stop());

  const holds = '/v1/shows/s1/holds';

  it('malformed JSON and the wrong content type', async () => {
    await refused('POST', holds, { raw: '{"seats":["A-2"' }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { raw: '' }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { raw: '["A-2"]' }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { raw: 'null' }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { raw: '{"seats":["A-2"]}', headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('unknown, malformed and duplicate seats', async () => {
    const unknown = await refused('POST', holds, { body: { seats: ['A-2', 'Z-99'] } }, 400, 'INVALID_ARGUMENT');
    assert.deepEqual(unknown.body.error.seats, ['Z-99']);
    await refused('POST', holds, { body: { seats: ['A 2'] } }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { body: { seats: ['x'.repeat(33)] } }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { body: { seats: [2] } }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { body: { seats: [] } }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { body: { seats: ['A-2', 'A-3', 'A-2'] } }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { body: { seats: Array.from({ length: 1001 }, (_, i) => `A-${i}`) } }, 400, 'INVALID_ARGUMENT');
  });

  it('zero, negative, fractional, huge and conflicting counts', async () => {
    for (const count of [0, -1, 1.5, 1001, 1e9, '2', null]) await refused('POST', holds, { body: { count } }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { body: { count: 11 } }, 422, 'HOLD_LIMIT_EXCEEDED');
    await refused('POST', holds, { body: { count: 2, seats: ['A-2'] } }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { body: {} }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { body: { seats: ['A-2'], category: 'gold' } }, 400, 'INVALID_ARGUMENT');
    for (const ttlSeconds of [0, -5, 86_401, 2.5])
      await refused('POST', holds, { body: { count: 1, ttlSeconds } }, 400, 'INVALID_ARGUMENT');
  });

  it('unknown keys, __proto__ and constructor keys, without polluting prototypes', async () => {
    await refused('POST', holds, { body: { count: 1, admin: true } }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { raw: '{"count":1,"__proto__":{"polluted":true}}' }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { raw: '{"count":1,"constructor":{"prototype":{"polluted":true}}}' }, 400, 'INVALID_ARGUMENT');
    await refused(
      'POST',
      `${holds}/${hold.holdId}/confirm`,
      { holdToken: hold.holdToken, raw: '{"__proto__":{"polluted":true}}' },
      400,
      'INVALID_ARGUMENT',
    );
    const nested = JSON.stringify(showBody('s2')).replace('"price":50000', '"price":50000,"__proto__":{"polluted":true}');
    const res = await srv.request('POST', '/v1/shows', { admin: true, raw: nested });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'INVALID_ARGUMENT');
    assert.equal((await srv.request('GET', '/v1/shows/s2')).body.error.code, 'SHOW_NOT_FOUND');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
  });

  it('bodies over the limit: 413 before reading (Content-Length) and while reading (chunked)', async () => {
    const big = JSON.stringify({ seats: ['A-2'], customerId: 'x'.repeat(70 * 1024) });
    await refused('POST', holds, { raw: big }, 413, 'PAYLOAD_TOO_LARGE');
    const before = await state();
    const chunk = Buffer.alloc(16 * 1024, 'a');
    const res = await sendChunked(srv.url, holds, [Buffer.from('{"customerId":"'), chunk, chunk, chunk, chunk, chunk]);
    assert.deepEqual(res, { status: 413, code: 'PAYLOAD_TOO_LARGE' });
    assert.deepEqual(await state(), before);
  });

  it('invalid ids in the path', async () => {
    await refused('POST', '/v1/shows/bad.id/holds', { body: { count: 1 } }, 400, 'INVALID_ARGUMENT');
    await refused('POST', `/v1/shows/${'x'.repeat(65)}/holds`, { body: { count: 1 } }, 400, 'INVALID_ARGUMENT');
    await refused('POST', '/v1/shows/s1/holds/h%2A/confirm', { holdToken: hold.holdToken }, 400, 'INVALID_ARGUMENT');
    await refused('GET', '/v1/shows/s1/bookings/b.1', {}, 400, 'INVALID_ARGUMENT');
    await refused('POST', '/v1/shows/nope/holds', { body: { count: 1 } }, 404, 'SHOW_NOT_FOUND');
  });

  it('missing, wrong and foreign hold tokens', async () => {
    const confirm = `${holds}/${hold.holdId}/confirm`;
    await refused('POST', confirm, {}, 401, 'UNAUTHENTICATED');
    await refused('POST', confirm, { holdToken: 'wrong' }, 403, 'FORBIDDEN');
    await refused('POST', `${holds}/${hold.holdId}/extend`, {}, 401, 'UNAUTHENTICATED');
    await refused('POST', `${holds}/${hold.holdId}/extend`, { holdToken: 'x'.repeat(43) }, 403, 'FORBIDDEN');
    await refused('DELETE', `${holds}/${hold.holdId}`, {}, 401, 'UNAUTHENTICATED');
    await refused('DELETE', `${holds}/${hold.holdId}`, { holdToken: 'x'.repeat(300) }, 403, 'FORBIDDEN');
    const other = (await srv.request('POST', holds, { body: { seats: ['B-10'] } })).body;
    await refused('DELETE', `${holds}/${hold.holdId}`, { holdToken: other.holdToken }, 403, 'FORBIDDEN');
    await refused('POST', confirm, { holdToken: other.holdToken }, 403, 'FORBIDDEN');
    // A valid token for a hold that never existed: the hold, not the token, is what is missing.
    const ghost = 'h_ghost';
    await refused('POST', `${holds}/${ghost}/confirm`, { holdToken: srv.node.tokens.issue('s1', ghost) }, 404, 'HOLD_NOT_FOUND');
    await refused('POST', confirm, { holdToken: hold.holdToken, body: { paymentRef: '' } }, 400, 'INVALID_ARGUMENT');
    await refused('POST', confirm, { holdToken: hold.holdToken, body: { paymentRef: 'p', extra: 1 } }, 400, 'INVALID_ARGUMENT');
  });

  it('missing and wrong admin tokens', async () => {
    const admin = [
      ['POST', '/v1/shows', { body: showBody('s3') }],
      ['PATCH', '/v1/shows/s1', { body: { title: 'x' } }],
      ['DELETE', '/v1/shows/s1', {}],
      ['POST', '/v1/shows/s1/seats/block', { body: { seats: ['A-5'] } }],
      ['POST', '/v1/shows/s1/seats/unblock', { body: { seats: ['A-5'] } }],
      ['POST', '/v1/shows/s1/bookings/cancel', { body: { bookingIds: ['b_x'] } }],
      ['POST', '/v1/shows/s1/bookings/b_x/cancel', {}],
    ] as const;
    for (const [method, path, opts] of admin) {
      await refused(method, path, opts, 401, 'UNAUTHENTICATED');
      await refused(method, path, { ...opts, headers: { authorization: `Basic ${srv.adminToken}` } }, 401, 'UNAUTHENTICATED');
      await refused(method, path, { ...opts, headers: { authorization: 'Bearer not-the-token' } }, 403, 'FORBIDDEN');
      await refused(method, path, { ...opts, headers: { authorization: `Bearer ${srv.adminToken}x` } }, 403, 'FORBIDDEN');
    }
    assert.equal((await srv.request('GET', '/v1/shows/s3')).body.error.code, 'SHOW_NOT_FOUND');
  });

  it('invalid show definitions', async () => {
    const bad: Array<Record<string, unknown>> = [
      showBody('s4', { categories: [{ id: 'gold', price: -1, currency: 'INR' }] }),
      showBody('s4', { categories: [{ id: 'gold', price: 1.5, currency: 'INR' }] }),
      showBody('s4', { categories: [{ id: 'gold', price: 100, currency: 'inr' }] }),
      showBody('s4', {
        categories: [
          { id: 'gold', price: 100, currency: 'INR' },
          { id: 'gold', price: 1, currency: 'INR' },
        ],
      }),
      showBody('s4', { startsAt: 'next friday' }),
      showBody('s4', { title: '' }),
      showBody('s4', { title: 'x'.repeat(201) }),
      showBody('s4', { layout: { sections: [] } }),
      showBody('s4', { layout: { sections: [{ id: 'm', rows: [{ label: 'A', seats: 0, category: 'gold' }] }] } }),
      showBody('s4', { layout: { sections: [{ id: 'm', rows: [{ label: 'A', seats: 5, category: 'silver' }] }] } }),
      showBody('s4', { layout: { sections: [{ id: 'm', rows: [{ label: 'A-1', seats: 5, category: 'gold' }] }] } }),
      showBody('s4', { limits: { maxSeatsPerHold: 0 } }),
      showBody('s4', { offers: { nthTicket: { n: 3, percentOff: 150 } } }),
      showBody('s4', { offers: { afternoon: { from: '25:00', to: '17:00', percentOff: 20 } } }),
      showBody('s4', { blockedSeats: ['Z-1'] }),
      showBody('s4', { unknown: true }),
      showBody('bad id'),
    ];
    for (const body of bad) {
      const res = await srv.request('POST', '/v1/shows', { admin: true, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, 'INVALID_ARGUMENT');
    }
    assert.equal((await srv.request('GET', '/v1/shows/s4')).body.error.code, 'SHOW_NOT_FOUND');
  });

  it('bad Idempotency-Key headers', async () => {
    await refused('POST', holds, { body: { count: 1 }, idempotencyKey: 'k'.repeat(129) }, 400, 'INVALID_ARGUMENT');
    await refused('POST', holds, { body: { count: 1 }, idempotencyKey: 'k'.repeat(15) }, 400, 'INVALID_ARGUMENT');
  });
});
