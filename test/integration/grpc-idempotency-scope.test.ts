import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CustomerTokens } from '../../src/gateway/customer-token.ts';
import { call, createShow, failure, startHarness, type Harness } from './grpc-harness.ts';

const SECRET = 'grpc-customer-token-secret-0123456789';

/** Metadata naming the client through a trusted proxy, plus anything else given. */
function md(entries: Record<string, string>): grpc.Metadata {
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(entries)) m.set(k, v);
  return m;
}

describe('grpc: an idempotency key belongs to its caller', () => {
  let h: Harness;
  const seats = async (id: string) => (await h.node.service.getSeatMap(id)).seats;

  before(async () => {
    h = await startHarness({ identity: { trustedProxies: ['127.0.0.1'] } });
    await createShow(h.client, 'g-scope', 3, 10);
  });
  after(() => h.stop());

  it('another caller with the same key and request gets its own hold, never the first one', async () => {
    const key = 'grpc-checkout-0001-abcdef';
    const a = await call(
      h.client,
      'Hold',
      { show_id: 'g-scope', count: 2, idempotency_key: key },
      { metadata: md({ 'x-forwarded-for': '203.0.113.1' }) },
    );
    const b = await call(
      h.client,
      'Hold',
      { show_id: 'g-scope', count: 2, idempotency_key: key },
      { metadata: md({ 'x-forwarded-for': '203.0.113.2' }) },
    );
    assert.notEqual(b.hold_id, a.hold_id);
    assert.notEqual(b.hold_token, a.hold_token);
    const steal = await failure(call(h.client, 'Confirm', { show_id: 'g-scope', hold_id: a.hold_id, hold_token: b.hold_token }));
    assert.equal(steal.code, 'FORBIDDEN');
    // Named seats: the other caller is refused rather than handed the hold.
    const c = await call(
      h.client,
      'Hold',
      { show_id: 'g-scope', seats: ['C-1'], idempotency_key: 'grpc-checkout-0002-abcdef' },
      { metadata: md({ 'x-forwarded-for': '203.0.113.1' }) },
    );
    const d = await failure(
      call(
        h.client,
        'Hold',
        { show_id: 'g-scope', seats: ['C-1'], idempotency_key: 'grpc-checkout-0002-abcdef' },
        { metadata: md({ 'x-forwarded-for': '203.0.113.2' }) },
      ),
    );
    assert.equal(d.code, 'SEAT_UNAVAILABLE');
    // The same caller retrying gets the same hold.
    const again = await call(
      h.client,
      'Hold',
      { show_id: 'g-scope', seats: ['C-1'], idempotency_key: 'grpc-checkout-0002-abcdef' },
      { metadata: md({ 'x-forwarded-for': '203.0.113.1' }) },
    );
    assert.equal(again.hold_id, c.hold_id);
    assert.equal(again.hold_token, c.hold_token);
  });

  it('keys outside 16-128 printable ASCII characters are INVALID_ARGUMENT and change nothing', async () => {
    const hold = await call(h.client, 'Hold', { show_id: 'g-scope', seats: ['B-5'] });
    for (const key of ['k', 'x'.repeat(15), 'x'.repeat(129), 'caf\u00e9-0123456789abcdef']) {
      const before = await seats('g-scope');
      const f = await failure(call(h.client, 'Hold', { show_id: 'g-scope', count: 1, idempotency_key: key }));
      assert.equal(f.status, grpc.status.INVALID_ARGUMENT, key);
      assert.equal(f.code, 'INVALID_ARGUMENT');
      const c = await failure(
        call(h.client, 'Confirm', { show_id: 'g-scope', hold_id: hold.hold_id, hold_token: hold.hold_token, idempotency_key: key }),
      );
      assert.equal(c.code, 'INVALID_ARGUMENT');
      assert.equal(await seats('g-scope'), before);
    }
  });
});

describe('grpc: customer tokens and per-customer caps', () => {
  let h: Harness;
  const tokens = new CustomerTokens(SECRET);
  const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

  before(async () => {
    h = await startHarness({ identity: { customerTokenSecret: SECRET, trustedProxies: ['127.0.0.1'] } });
    await createShow(h.client, 'g-cap', 3, 10, { limits: { max_seats_per_customer: 3 } });
  });
  after(() => h.stop());

  it('a customer_id needs a valid, unexpired customer-token; refusals change nothing', async () => {
    const before = (await h.node.service.getSeatMap('g-cap')).seats;
    const cases: Array<[string, grpc.Metadata]> = [
      ['missing', md({})],
      ['wrong customer', md({ 'customer-token': tokens.mint('mallory', inAnHour()) })],
      ['expired', md({ 'customer-token': tokens.mint('alice', Math.floor(Date.now() / 1000) - 1) })],
      ['malformed', md({ 'customer-token': 'not-a-token' })],
    ];
    for (const [what, metadata] of cases) {
      const f = await failure(call(h.client, 'Hold', { show_id: 'g-cap', count: 1, customer_id: 'alice' }, { metadata }));
      assert.equal(f.status, grpc.status.UNAUTHENTICATED, what);
      assert.equal(f.code, 'UNAUTHENTICATED', what);
    }
    assert.equal((await h.node.service.getSeatMap('g-cap')).seats, before);
    const ok = await call(
      h.client,
      'Hold',
      { show_id: 'g-cap', count: 1, customer_id: 'alice' },
      { metadata: md({ 'customer-token': tokens.mint('alice', inAnHour()) }) },
    );
    assert.equal(ok.customer_id, 'alice');
  });

  it('caps held + booked seats per customer; a hold without customer_id is CUSTOMER_REQUIRED', async () => {
    const token = md({ 'customer-token': tokens.mint('bob', inAnHour()) });
    const first = await call(h.client, 'Hold', { show_id: 'g-cap', count: 2, customer_id: 'bob' }, { metadata: token });
    await call(h.client, 'Confirm', { show_id: 'g-cap', hold_id: first.hold_id, hold_token: first.hold_token });
    const over = await failure(call(h.client, 'Hold', { show_id: 'g-cap', count: 2, customer_id: 'bob' }, { metadata: token }));
    assert.equal(over.code, 'HOLD_LIMIT_EXCEEDED');
    assert.equal(over.status, grpc.status.FAILED_PRECONDITION);
    const anonymous = await failure(call(h.client, 'Hold', { show_id: 'g-cap', count: 1 }));
    assert.equal(anonymous.code, 'CUSTOMER_REQUIRED');
    assert.equal(anonymous.status, grpc.status.INVALID_ARGUMENT);
    const show = await call(h.client, 'GetShow', { show_id: 'g-cap' });
    assert.equal(show.limits.max_seats_per_customer, 3);
  });

  it('with a customer token the customer is the caller: a retry from a changed address gets its hold back', async () => {
    const token = tokens.mint('carol', inAnHour());
    const req = { show_id: 'g-cap', seats: ['C-9'], customer_id: 'carol', idempotency_key: 'carol-checkout-0123456789' };
    const a = await call(h.client, 'Hold', req, { metadata: md({ 'customer-token': token, 'x-forwarded-for': '203.0.113.10' }) });
    const b = await call(h.client, 'Hold', req, { metadata: md({ 'customer-token': token, 'x-forwarded-for': '198.51.100.20' }) });
    assert.equal(b.hold_id, a.hold_id);
    assert.equal(b.hold_token, a.hold_token);
  });
});
