import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_LIMITS } from '../../src/actors/defaults.ts';
import { EdgeIdentity } from '../../src/gateway/caller.ts';
import { CustomerTokens } from '../../src/gateway/customer-token.ts';
import { ErrorCode, SeatError } from '../../src/errors.ts';
import { showDef } from '../../testkit/shows.ts';
import { TestClient, startWsServer, type WsTestServer } from './ws-harness.ts';

const SECRET = 'ws-customer-token-secret-0123456789abc';

describe('websocket: an idempotency key belongs to its caller', () => {
  let srv: WsTestServer;
  const clients: TestClient[] = [];
  const connect = async (address: string) => {
    const c = await TestClient.connect(srv.wsUrl, { 'x-forwarded-for': address });
    clients.push(c);
    return c;
  };
  const seats = async () => (await srv.node.service.getSeatMap('s1')).seats;

  before(async () => {
    srv = await startWsServer({ shows: [showDef('s1', 3, 10)], ws: { identity: new EdgeIdentity({ trustedProxies: ['127.0.0.1'] }) } });
  });
  after(async () => {
    for (const c of clients) c.close();
    await srv.stop();
  });

  it('two sockets of two callers sending the same key, body and requestId each get their own answer', async () => {
    const [a, b] = [await connect('203.0.113.1'), await connect('203.0.113.2')];
    const frame = { type: 'hold', showId: 's1', count: 2, idempotencyKey: 'ws-checkout-0001-abcdef', requestId: 'same-id' };
    a.send(frame);
    const first = await a.next((f) => f.requestId === 'same-id');
    b.send(frame);
    const second = await b.next((f) => f.requestId === 'same-id');
    assert.equal(first.type, 'result');
    assert.equal(second.type, 'result');
    assert.notEqual(second.holdId, first.holdId);
    assert.notEqual(second.holdToken, first.holdToken);
    // Neither socket saw the other's answer.
    assert.equal(a.frames.filter((f) => f.requestId === 'same-id').length, 0);
    assert.equal(b.frames.filter((f) => f.requestId === 'same-id').length, 0);
    const steal = await b.request({ type: 'confirm', showId: 's1', holdId: first.holdId, holdToken: second.holdToken });
    assert.equal(steal.code, 'FORBIDDEN');
  });

  it('named seats: the other caller is refused instead of handed the hold; the same caller gets it again', async () => {
    const [a, b] = [await connect('203.0.113.1'), await connect('203.0.113.2')];
    const frame = { type: 'hold', showId: 's1', seats: ['C-1'], idempotencyKey: 'ws-checkout-0002-abcdef' };
    const first = await a.request(frame);
    const other = await b.request(frame);
    assert.equal(first.type, 'result');
    assert.equal(other.type, 'error');
    assert.equal(other.code, 'SEAT_UNAVAILABLE');
    assert.ok(!JSON.stringify(other).includes(first.holdToken));
    const a2 = await connect('203.0.113.1');
    const again = await a2.request(frame);
    assert.equal(again.holdId, first.holdId);
    assert.equal(again.holdToken, first.holdToken);
  });

  it('keys outside 16-128 printable ASCII characters are refused with an error frame and change nothing', async () => {
    const c = await connect('203.0.113.3');
    const hold = await c.request({ type: 'hold', showId: 's1', seats: ['B-2'] });
    for (const key of ['k', 'x'.repeat(15), 'x'.repeat(129), 'caf\u00e9-0123456789abcdef']) {
      const before = await seats();
      const h = await c.request({ type: 'hold', showId: 's1', count: 1, idempotencyKey: key });
      assert.equal(h.type, 'error', key);
      assert.equal(h.code, 'INVALID_ARGUMENT');
      const r = await c.request({ type: 'release', showId: 's1', holdId: hold.holdId, holdToken: hold.holdToken, idempotencyKey: key });
      assert.equal(r.code, 'INVALID_ARGUMENT');
      assert.equal(await seats(), before);
    }
  });
});

describe('websocket: customer tokens and per-customer caps', () => {
  let srv: WsTestServer;
  let c: TestClient;
  const tokens = new CustomerTokens(SECRET);
  const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

  before(async () => {
    const capped = showDef('cap', 3, 10, { limits: { ...DEFAULT_LIMITS, maxSeatsPerCustomer: 2 } });
    srv = await startWsServer({ shows: [capped], ws: { identity: new EdgeIdentity({ customerTokenSecret: SECRET }) } });
    c = await TestClient.connect(srv.wsUrl);
  });
  after(async () => {
    c.close();
    await srv.stop();
  });

  it('customerId needs its customerToken on the frame: missing, wrong, expired are UNAUTHENTICATED', async () => {
    const before = (await srv.node.service.getSeatMap('cap')).seats;
    for (const customerToken of [undefined, tokens.mint('mallory', inAnHour()), tokens.mint('alice', Math.floor(Date.now() / 1000) - 5)]) {
      const f = await c.request({
        type: 'hold',
        showId: 'cap',
        count: 1,
        customerId: 'alice',
        ...(customerToken ? { customerToken } : {}),
      });
      assert.equal(f.type, 'error');
      assert.equal(f.code, 'UNAUTHENTICATED');
    }
    assert.equal((await srv.node.service.getSeatMap('cap')).seats, before);
    const ok = await c.request({
      type: 'hold',
      showId: 'cap',
      count: 2,
      customerId: 'alice',
      customerToken: tokens.mint('alice', inAnHour()),
    });
    assert.equal(ok.type, 'result');
    const over = await c.request({
      type: 'hold',
      showId: 'cap',
      count: 1,
      customerId: 'alice',
      customerToken: tokens.mint('alice', inAnHour()),
    });
    assert.equal(over.code, 'HOLD_LIMIT_EXCEEDED');
    const anonymous = await c.request({ type: 'hold', showId: 'cap', count: 1 });
    assert.equal(anonymous.code, 'CUSTOMER_REQUIRED');
  });
});

describe('websocket: errors are mapped in one place', () => {
  let srv: WsTestServer;
  let c: TestClient;
  let failWith: SeatError | Error = new Error('x');

  before(async () => {
    srv = await startWsServer({ shows: [showDef('s1')] });
    // The real service, with hold() failing the way a broken dependency would.
    const service = srv.node.service as unknown as { hold: (...a: unknown[]) => Promise<unknown> };
    service.hold = async () => {
      throw failWith;
    };
    c = await TestClient.connect(srv.wsUrl);
  });
  after(async () => {
    c.close();
    await srv.stop();
  });

  it('INTERNAL never carries its raw message; NOT_OWNER goes out as the retryable UNAVAILABLE', async () => {
    failWith = new SeatError(ErrorCode.INTERNAL, 'connect ECONNREFUSED 10.1.2.3:5432 user=seats');
    const internal = await c.request({ type: 'hold', showId: 's1', count: 1 });
    assert.equal(internal.code, 'INTERNAL');
    assert.equal(internal.message, 'internal error');
    failWith = new Error('TypeError: cannot read properties of undefined (reading "seats")');
    const raw = await c.request({ type: 'hold', showId: 's1', count: 1 });
    assert.equal(raw.code, 'INTERNAL');
    assert.equal(raw.message, 'internal error');
    failWith = new SeatError(ErrorCode.NOT_OWNER, 'owner is worker-7 at epoch 12');
    const moved = await c.request({ type: 'hold', showId: 's1', count: 1 });
    assert.equal(moved.code, 'UNAVAILABLE');
    assert.ok(!String(moved.message).includes('worker-7'));
    assert.equal(moved.retryAfterSeconds, 1);
  });
});
