import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/config.ts';
import { ErrorCode, SeatError } from '../../src/errors.ts';
import { HTTP_STATUS, toHttpError } from '../../src/gateway/http/error-mapping.ts';
import { startGateway, type Gateway } from '../../src/gateway/index.ts';
import { logger } from '../../src/logger.ts';
import type { SeatService } from '../../src/service/seat-service.ts';
import { request } from '../support/start-server.ts';

describe('http: error mapping', () => {
  it('maps every catalogue code to a status', () => {
    for (const code of Object.values(ErrorCode)) assert.ok(HTTP_STATUS[code] >= 400, code);
    assert.equal(HTTP_STATUS.HOLD_EXPIRED, 410);
    assert.equal(HTTP_STATUS.HOLD_LIMIT_EXCEEDED, 422);
    assert.equal(HTTP_STATUS.IDEMPOTENCY_MISMATCH, 422);
    assert.equal(HTTP_STATUS.DEADLINE_EXCEEDED, 504);
  });

  it('adds Retry-After to 429 and 503 and hides NOT_OWNER behind UNAVAILABLE', () => {
    const limited = toHttpError(new SeatError(ErrorCode.RATE_LIMITED, 'slow down', { retryAfterSeconds: 7 }));
    assert.equal(limited.status, 429);
    assert.deepEqual(limited.headers, { 'retry-after': '7' });
    const moved = toHttpError(new SeatError(ErrorCode.NOT_OWNER, 'node-2 owns s1'));
    assert.equal(moved.status, 503);
    assert.equal(JSON.parse(moved.body).error.code, 'UNAVAILABLE');
    assert.deepEqual(moved.headers, { 'retry-after': '1' });
  });

  it('never leaks the message or stack of an internal failure', () => {
    const e = toHttpError(new Error('password=hunter2 at db.ts:42'));
    assert.equal(e.status, 500);
    assert.deepEqual(JSON.parse(e.body), { error: { code: 'INTERNAL', message: 'internal error' } });
    const internal = toHttpError(new SeatError(ErrorCode.INTERNAL, 'log entry 7 of s1 starts at version 9'));
    assert.equal(JSON.parse(internal.body).error.message, 'internal error');
  });
});

describe('http: service failures over the wire', () => {
  let gateway: Gateway;
  let calls = 0;
  const fail = (err: unknown) => async () => {
    calls++;
    throw err;
  };
  // Only the methods these tests reach; the rest would throw if called.
  const service = {
    hold: fail(new Error('socket hang up: 10.0.0.7:5432')),
    confirm: fail(new SeatError(ErrorCode.HOLD_EXPIRED, 'expired')),
    release: fail(new SeatError(ErrorCode.UNAVAILABLE, 'could not commit')),
    getShow: fail(new SeatError(ErrorCode.DEADLINE_EXCEEDED, 'owner did not answer')),
  } as unknown as SeatService;

  before(async () => {
    gateway = await startGateway({
      service,
      config: { port: 0, host: '127.0.0.1', grpcPort: 0, maxBodyBytes: DEFAULT_MAX_BODY_BYTES },
      adminToken: 'admin-token-for-tests',
      logger,
    });
  });
  after(() => gateway.close(1_000));

  const call = (method: string, path: string, o = {}) => request(gateway.url, 'admin-token-for-tests', method, path, o);

  it('an unexpected error is 500 INTERNAL with no details', async () => {
    const res = await call('POST', '/v1/shows/s1/holds', { body: { count: 1 } });
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, { error: { code: 'INTERNAL', message: 'internal error' } });
  });

  it('HOLD_EXPIRED is 410, DEADLINE_EXCEEDED 504', async () => {
    const expired = await call('POST', '/v1/shows/s1/holds/h1/confirm', { holdToken: 't' });
    assert.equal(expired.status, 410);
    assert.equal(expired.body.error.code, 'HOLD_EXPIRED');
    const slow = await call('GET', '/v1/shows/s1');
    assert.equal(slow.status, 504);
    assert.equal(slow.body.error.code, 'DEADLINE_EXCEEDED');
  });

  it('retryable failures are not replayed from the idempotency cache', async () => {
    const before = calls;
    for (let i = 0; i < 2; i++) {
      const res = await call('DELETE', '/v1/shows/s1/holds/h1', { holdToken: 't', idempotencyKey: 'retry-after-0123456789' });
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'UNAVAILABLE');
      assert.equal(res.headers.get('retry-after'), '1');
    }
    assert.equal(calls - before, 2);
  });
});
