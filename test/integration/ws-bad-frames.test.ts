import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CloseCode } from '../../src/gateway/ws/index.ts';
import { showDef } from '../../testkit/shows.ts';
import { TestClient, startWsServer, type WsTestServer } from './ws-harness.ts';

const MAX_SUBS = 3;
const MAX_BAD = 8;

describe('websocket bad input', () => {
  let srv: WsTestServer;
  let bystander: TestClient;
  const clients: TestClient[] = [];
  const connect = async () => {
    const c = await TestClient.connect(srv.wsUrl);
    clients.push(c);
    return c;
  };

  before(async () => {
    const shows = ['s1', 's2', 's3', 's4'].map((id) => showDef(id));
    srv = await startWsServer({ shows, ws: { tickMs: 10, maxSubscriptions: MAX_SUBS, maxBadFrames: MAX_BAD, maxPayloadBytes: 4096 } });
    bystander = await connect();
    bystander.send({ type: 'subscribe', showId: 's1' });
    await bystander.next((f) => f.type === 'snapshot');
  });
  after(async () => {
    for (const c of clients) c.close();
    await srv.stop();
  });

  /** The server still serves others: a change to s1 reaches the bystander. */
  async function othersStillServed(): Promise<void> {
    const h = await srv.node.service.hold('s1', { count: 1 });
    await bystander.next((f) => f.type === 'delta' && f.changes.some((c: [string, string]) => c[0] === h.seats[0]));
    await srv.node.service.release('s1', h.holdId, h.holdToken);
  }

  test('not JSON, unknown type, bad fields, binary: INVALID_ARGUMENT error frames, socket stays usable', async () => {
    const c = await connect();
    c.send('{not json');
    assert.equal((await c.next()).code, 'INVALID_ARGUMENT');
    c.send({ type: 'dance', requestId: 'r1' });
    const unknown = await c.next();
    assert.equal(unknown.code, 'INVALID_ARGUMENT');
    assert.equal(unknown.requestId, 'r1', 'the requestId is echoed when it can be read');
    c.send({ type: 'hold', requestId: 'r2', showId: 's2', seats: 'A-1' });
    const bad = await c.next();
    assert.equal(bad.code, 'INVALID_ARGUMENT');
    assert.ok(bad.fields.some((f: { path: string }) => f.path === 'seats'));
    c.send({ type: 'hold', requestId: 'r3', showId: 's2', seats: ['A-1'], count: 2 });
    assert.equal((await c.next()).code, 'INVALID_ARGUMENT');
    c.send({ type: 'subscribe', showId: 'bad id with spaces' });
    assert.equal((await c.next()).code, 'INVALID_ARGUMENT');
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await c.next()).code, 'INVALID_ARGUMENT');
    // Nothing changed, and the same socket still works.
    assert.equal((await srv.node.service.getSeatMap('s2')).seats, 'a'.repeat(20));
    const ok = await c.request({ type: 'hold', showId: 's2', seats: ['A-1'] });
    assert.equal(ok.type, 'result');
    await othersStillServed();
  });

  test('an oversized frame closes the socket with 1009', async () => {
    const c = await connect();
    c.send({ type: 'subscribe', showId: 's2', pad: 'x'.repeat(8192) });
    assert.equal((await c.closed).code, CloseCode.MESSAGE_TOO_BIG);
    await othersStillServed();
  });

  test('too many subscriptions on one socket: TOO_MANY_SUBSCRIPTIONS, earlier ones keep working', async () => {
    const c = await connect();
    for (const id of ['s1', 's2', 's3']) {
      c.send({ type: 'subscribe', showId: id });
      await c.next((f) => f.type === 'snapshot' && f.showId === id);
    }
    c.send({ type: 'subscribe', showId: 's4' });
    const err = await c.next((f) => f.type === 'error');
    assert.equal(err.code, 'TOO_MANY_SUBSCRIPTIONS');
    assert.equal(err.showId, 's4');
    // Resubscribing to a show already watched is not a new subscription (and, so soon after
    // its snapshot, continues from the version the socket has).
    c.send({ type: 'subscribe', showId: 's3' });
    assert.equal((await c.next((f) => f.showId === 's3')).type, 'subscribed');
    c.send({ type: 'unsubscribe', showId: 's3' });
    c.send({ type: 'subscribe', showId: 's4' });
    assert.equal((await c.next((f) => f.showId === 's4')).type, 'snapshot');
    await othersStillServed();
  });

  test('too many bad frames close the socket with 1008', async () => {
    const c = await connect();
    for (let i = 0; i <= MAX_BAD; i++) c.send('nope');
    assert.equal((await c.closed).code, CloseCode.POLICY_VIOLATION);
    assert.equal(c.frames.filter((f) => f.type === 'error').length, MAX_BAD);
    await othersStillServed();
  });
});

test('a socket that stops answering pings is terminated by the heartbeat', async () => {
  const srv = await startWsServer({ ws: { heartbeatMs: 50 } });
  try {
    const live = await TestClient.connect(srv.wsUrl);
    const dead = await TestClient.connect(srv.wsUrl);
    // A paused socket reads nothing, so it never sees a ping nor answers with a pong.
    (dead.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const deadline = Date.now() + 5_000;
    while (srv.ws.stats().deadTerminated < 1) {
      assert.ok(Date.now() < deadline, 'the dead socket was not reaped');
      await new Promise((r) => setTimeout(r, 20));
    }
    const s = srv.ws.stats();
    assert.equal(s.deadTerminated, 1, 'the socket that answers pings stays');
    live.send({ type: 'subscribe', showId: 's1' });
    assert.equal((await live.next()).type, 'snapshot');
    live.close();
    dead.ws.terminate();
  } finally {
    await srv.stop();
  }
});
