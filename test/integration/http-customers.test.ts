import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CustomerTokens } from '../../src/gateway/customer-token.ts';
import { showBody, startTestServer, type TestServer } from '../support/start-server.ts';

const SECRET = 'http-customer-token-secret-0123456789ab';

describe('http: per-customer caps (limits.maxSeatsPerCustomer)', () => {
  let srv: TestServer;
  const compact = async (id: string): Promise<string> => (await srv.request('GET', `/v1/shows/${id}?format=compact`)).body.seats;
  const hold = (id: string, body: object, headers: Record<string, string> = {}) =>
    srv.request('POST', `/v1/shows/${id}/holds`, { body, headers });

  before(async () => {
    srv = await startTestServer();
    const created = await srv.request('POST', '/v1/shows', { admin: true, body: showBody('cap', { limits: { maxSeatsPerCustomer: 4 } }) });
    assert.equal(created.status, 201);
    assert.equal(created.body.limits.maxSeatsPerCustomer, 4);
  });
  after(() => srv.stop());

  it('counts held and booked seats across holds and a confirm; a release gives seats back', async () => {
    const a = (await hold('cap', { count: 2, customerId: 'alice' })).body;
    const b = (await hold('cap', { count: 1, customerId: 'alice' })).body;
    assert.equal((await srv.request('POST', `/v1/shows/cap/holds/${a.holdId}/confirm`, { holdToken: a.holdToken })).status, 201);
    const before = await compact('cap');
    const over = await hold('cap', { count: 2, customerId: 'alice' });
    assert.equal(over.status, 422);
    assert.equal(over.body.error.code, 'HOLD_LIMIT_EXCEEDED');
    assert.equal(await compact('cap'), before);
    assert.equal((await hold('cap', { count: 2, customerId: 'bob' })).status, 201, 'another customer has its own cap');
    assert.equal((await srv.request('DELETE', `/v1/shows/cap/holds/${b.holdId}`, { holdToken: b.holdToken })).status, 204);
    assert.equal((await hold('cap', { count: 2, customerId: 'alice' })).status, 201);
    assert.equal((await hold('cap', { count: 1, customerId: 'alice' })).body.error.code, 'HOLD_LIMIT_EXCEEDED');
  });

  it('a hold without customerId on a capped show is 400 CUSTOMER_REQUIRED and changes nothing', async () => {
    const before = await compact('cap');
    const res = await hold('cap', { count: 1 });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, 'CUSTOMER_REQUIRED');
    assert.equal(await compact('cap'), before);
  });

  it('an admin sets, changes and lifts the cap; bad values are refused', async () => {
    assert.equal((await srv.request('POST', '/v1/shows', { admin: true, body: showBody('cap2') })).status, 201);
    assert.equal((await hold('cap2', { count: 1 })).status, 201);
    const set = await srv.request('PATCH', '/v1/shows/cap2', { admin: true, body: { limits: { maxSeatsPerCustomer: 1 } } });
    assert.equal(set.status, 200);
    assert.equal(set.body.limits.maxSeatsPerCustomer, 1);
    assert.equal((await hold('cap2', { count: 1 })).body.error.code, 'CUSTOMER_REQUIRED');
    const lifted = await srv.request('PATCH', '/v1/shows/cap2', { admin: true, body: { limits: { maxSeatsPerCustomer: null } } });
    assert.equal(lifted.status, 200);
    assert.equal((await hold('cap2', { count: 1 })).status, 201);
    for (const bad of [0, -1, 1.5, 'ten', 300_000])
      assert.equal(
        (await srv.request('PATCH', '/v1/shows/cap2', { admin: true, body: { limits: { maxSeatsPerCustomer: bad } } })).status,
        400,
        String(bad),
      );
  });

  it('customer ids are taken exactly as sent: surrounding spaces and control characters are refused', async () => {
    for (const customerId of [' alice', 'alice ', 'al\nice', ''])
      assert.equal((await hold('cap', { count: 1, customerId })).status, 400, JSON.stringify(customerId));
  });
});

describe('http: customer tokens (CUSTOMER_TOKEN_SECRET)', () => {
  let srv: TestServer;
  const tokens = new CustomerTokens(SECRET);
  const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
  const compact = async (): Promise<string> => (await srv.request('GET', '/v1/shows/s1?format=compact')).body.seats;
  const hold = (body: object, headers: Record<string, string> = {}, idempotencyKey?: string) =>
    srv.request('POST', '/v1/shows/s1/holds', { body, headers, ...(idempotencyKey ? { idempotencyKey } : {}) });

  before(async () => {
    srv = await startTestServer({ customerTokenSecret: SECRET, trustedProxies: ['127.0.0.1'] });
    assert.equal((await srv.request('POST', '/v1/shows', { admin: true, body: showBody('s1') })).status, 201);
  });
  after(() => srv.stop());

  it('a valid Customer-Token lets the customerId through', async () => {
    const res = await hold({ count: 1, customerId: 'alice' }, { 'customer-token': tokens.mint('alice', inAnHour()) });
    assert.equal(res.status, 201);
    assert.equal(res.body.customerId, 'alice');
  });

  it('missing, wrong, expired and malformed tokens are 401 UNAUTHENTICATED and change nothing', async () => {
    const before = await compact();
    const cases: Array<[string, Record<string, string>]> = [
      ['missing', {}],
      ['another customer', { 'customer-token': tokens.mint('mallory', inAnHour()) }],
      ['another secret', { 'customer-token': new CustomerTokens('x'.repeat(40)).mint('alice', inAnHour()) }],
      ['expired', { 'customer-token': tokens.mint('alice', Math.floor(Date.now() / 1000) - 1) }],
      ['malformed', { 'customer-token': 'alice' }],
    ];
    for (const [what, headers] of cases) {
      const res = await hold({ count: 1, customerId: 'alice' }, headers);
      assert.equal(res.status, 401, what);
      assert.equal(res.body.error.code, 'UNAUTHENTICATED', what);
    }
    assert.equal(await compact(), before);
  });

  it('a hold without customerId needs no token', async () => {
    assert.equal((await hold({ count: 1 })).status, 201);
  });

  it('the customer is the caller: a retry from a changed address replays; another customer with the key does not', async () => {
    const key = 'alice-checkout-0123456789';
    const token = tokens.mint('alice', inAnHour());
    const a = await hold({ seats: ['B-1'], customerId: 'alice' }, { 'customer-token': token, 'x-forwarded-for': '203.0.113.1' }, key);
    const moved = await hold({ seats: ['B-1'], customerId: 'alice' }, { 'customer-token': token, 'x-forwarded-for': '198.51.100.9' }, key);
    assert.equal(a.status, 201);
    assert.equal(moved.status, 201);
    assert.equal(moved.body.holdId, a.body.holdId);
    assert.equal(moved.body.holdToken, a.body.holdToken);
    const bob = await hold(
      { count: 1, customerId: 'bob' },
      { 'customer-token': tokens.mint('bob', inAnHour()), 'x-forwarded-for': '203.0.113.1' },
      key,
    );
    assert.equal(bob.status, 201);
    assert.notEqual(bob.body.holdId, a.body.holdId);
  });
});
