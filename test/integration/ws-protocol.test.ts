import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { WebSocket } from 'ws';
import { showDef } from '../../testkit/shows.ts';
import { MapReplica, TestClient, startWsServer, type WsTestServer } from './ws-harness.ts';

describe('websocket protocol', () => {
  let srv: WsTestServer;
  const clients: TestClient[] = [];
  const connect = async () => {
    const c = await TestClient.connect(srv.wsUrl);
    clients.push(c);
    return c;
  };

  before(async () => {
    srv = await startWsServer({ shows: [showDef('s1'), showDef('s2'), showDef('s3')], ws: { tickMs: 20, ringFrames: 4 } });
  });
  after(async () => {
    for (const c of clients) c.close();
    await srv.stop();
  });

  test('subscribe answers with a compact snapshot matching the service map', async () => {
    const c = await connect();
    c.send({ type: 'subscribe', showId: 's1' });
    const snap = await c.next((f) => f.type === 'snapshot');
    const map = await srv.node.service.getSeatMap('s1');
    assert.equal(snap.showId, 's1');
    assert.equal(snap.version, map.version);
    assert.equal(snap.layoutVersion, map.layoutVersion);
    assert.equal(snap.seats, map.seats);
    assert.equal(snap.labels, undefined, 'regular rows need no label list');
    const replica = new MapReplica();
    replica.apply(snap);
    assert.deepEqual(replica.labels, map.labels);
    assert.deepEqual(snap.categories, map.categories);
  });

  test("another client's hold arrives as a delta; commands answer with their requestId", async () => {
    const watcher = await connect();
    watcher.send({ type: 'subscribe', showId: 's2' });
    const snap = await watcher.next((f) => f.type === 'snapshot');
    const buyer = await connect();

    const held = await buyer.request({ type: 'hold', showId: 's2', seats: ['A-1', 'A-2'] });
    assert.equal(held.type, 'result');
    assert.equal(held.op, 'hold');
    assert.deepEqual(held.seats, ['A-1', 'A-2']);
    assert.equal(typeof held.holdToken, 'string');
    const d1 = await watcher.next((f) => f.type === 'delta');
    assert.equal(d1.fromVersion, snap.version);
    assert.deepEqual(
      new Map(d1.changes),
      new Map([
        ['A-1', 'held'],
        ['A-2', 'held'],
      ]),
    );
    assert.equal(typeof d1.ts, 'number');

    const taken = await buyer.request({ type: 'hold', showId: 's2', seats: ['A-2', 'A-3'] });
    assert.equal(taken.type, 'error');
    assert.equal(taken.code, 'SEAT_UNAVAILABLE');
    assert.deepEqual(taken.seats, ['A-2']);

    const wrong = await buyer.request({ type: 'confirm', showId: 's2', holdId: held.holdId, holdToken: 'not-the-token' });
    assert.equal(wrong.code, 'FORBIDDEN');

    const extended = await buyer.request({ type: 'extend', showId: 's2', holdId: held.holdId, holdToken: held.holdToken, ttlSeconds: 900 });
    assert.equal(extended.type, 'result');
    assert.equal(extended.holdId, held.holdId);

    const booked = await buyer.request({
      type: 'confirm',
      showId: 's2',
      holdId: held.holdId,
      holdToken: held.holdToken,
      idempotencyKey: 'confirm-k1-0123456789',
    });
    assert.equal(booked.type, 'result');
    assert.deepEqual(booked.seats, ['A-1', 'A-2']);
    const again = await buyer.request({
      type: 'confirm',
      showId: 's2',
      holdId: held.holdId,
      holdToken: held.holdToken,
      idempotencyKey: 'confirm-k1-0123456789',
    });
    assert.equal(again.bookingId, booked.bookingId, 'an idempotent retry gets the first answer');
    const dBooked = await watcher.next((f) => f.type === 'delta' && f.changes.some((c: [string, string]) => c[1] === 'booked'));
    assert.deepEqual(
      new Map(dBooked.changes),
      new Map([
        ['A-1', 'booked'],
        ['A-2', 'booked'],
      ]),
    );

    const h2 = await buyer.request({ type: 'hold', showId: 's2', count: 2 });
    assert.equal(h2.type, 'result');
    const released = await buyer.request({ type: 'release', showId: 's2', holdId: h2.holdId, holdToken: h2.holdToken });
    assert.equal(released.type, 'result');
    assert.equal(released.released, true);
    const twice = await buyer.request({ type: 'release', showId: 's2', holdId: h2.holdId, holdToken: h2.holdToken });
    assert.equal(twice.type, 'result', 'releasing a released hold is a no-op');

    // The watcher's replica, fed every frame, ends equal to the server's map.
    const replica = new MapReplica();
    replica.apply(snap);
    const map = await srv.node.service.getSeatMap('s2');
    // next() above took d1 and dBooked out of arrival order (a delta between them, e.g. the
    // extend's when it fell in a tick of its own, is still queued): apply by version.
    const deltas = [d1, dBooked];
    while (Math.max(...deltas.map((d) => d.version)) < map.version) deltas.push(await watcher.next((f) => f.type === 'delta'));
    deltas.sort((a, b) => a.fromVersion - b.fromVersion);
    for (const d of deltas) replica.apply(d);
    assert.equal(replica.version, map.version);
    assert.equal(replica.gaps, 0);
    assert.equal(replica.compact, map.seats);
  });

  test('resume with fromVersion sends only missed deltas; too old or unknown gets a snapshot', async () => {
    const keeper = await connect();
    keeper.send({ type: 'subscribe', showId: 's3' });
    await keeper.next((f) => f.type === 'snapshot');
    const c = await connect();
    c.send({ type: 'subscribe', showId: 's3' });
    const snap = await c.next((f) => f.type === 'snapshot');
    c.close();
    const svc = srv.node.service;
    const h = await svc.hold('s3', { seats: ['B-1'] });
    await svc.release('s3', h.holdId, h.holdToken);
    const map = await svc.getSeatMap('s3');
    // Wait until the server has broadcast up to map.version, so the resume is served from the ring.
    while ((await keeper.next((f) => f.type === 'delta')).version < map.version);

    const r = await connect();
    r.send({ type: 'subscribe', showId: 's3', fromVersion: snap.version });
    const replica = new MapReplica();
    replica.apply(snap);
    for (;;) {
      const f = await r.next((x) => x.showId === 's3');
      assert.notEqual(f.type, 'snapshot', 'a covered resume must not resend the map');
      if (f.type === 'subscribed') break;
      replica.apply(f);
    }
    assert.equal(replica.version, map.version);
    assert.equal(replica.compact, map.seats);
    assert.equal(replica.gaps, 0);

    const current = await connect();
    current.send({ type: 'subscribe', showId: 's3', fromVersion: map.version });
    assert.equal((await current.next((f) => f.showId === 's3')).type, 'subscribed');

    // Push the ring (4 frames) past snap.version: each change lands in its own tick.
    for (let i = 0; i < 6; i++) {
      const x = await svc.hold('s3', { seats: [`A-${i + 1}`] });
      await r.next((f) => f.type === 'delta' && f.changes.some((ch: [string, string]) => ch[0] === `A-${i + 1}`));
      void x;
    }
    const old = await connect();
    old.send({ type: 'subscribe', showId: 's3', fromVersion: snap.version, layoutVersion: snap.layoutVersion });
    const fresh = await old.next((f) => f.showId === 's3');
    assert.equal(fresh.type, 'snapshot');
    assert.equal(fresh.rows, undefined, 'a client that has the layout gets statuses only');
    assert.equal(fresh.seats, (await svc.getSeatMap('s3')).seats);

    const future = await connect();
    future.send({ type: 'subscribe', showId: 's3', fromVersion: 1_000_000 });
    assert.equal((await future.next((f) => f.showId === 's3')).type, 'snapshot');
  });

  test('a layout change resyncs every watcher with a fresh snapshot', async () => {
    const c = await connect();
    c.send({ type: 'subscribe', showId: 's1' });
    const snap = await c.next((f) => f.type === 'snapshot');
    await srv.node.service.changeShow('s1', { layout: showDef('s1', 3, 5).layout });
    const fresh = await c.next((f) => f.type === 'snapshot');
    assert.ok(fresh.layoutVersion > snap.layoutVersion);
    assert.ok(Array.isArray(fresh.rows), 'a new layout comes with its rows');
    assert.equal(fresh.seats.length, 15);
  });

  test('unknown show: error frame with SHOW_NOT_FOUND; unsubscribe stops deltas', async () => {
    const c = await connect();
    c.send({ type: 'subscribe', showId: 'nope' });
    const err = await c.next((f) => f.type === 'error');
    assert.equal(err.code, 'SHOW_NOT_FOUND');
    assert.equal(err.showId, 'nope');

    c.send({ type: 'subscribe', showId: 's2' });
    await c.next((f) => f.type === 'snapshot');
    c.send({ type: 'unsubscribe', showId: 's2' });
    c.send({ type: 'subscribe', showId: 's3' });
    await c.next((f) => f.type === 'snapshot' && f.showId === 's3');
    const h = await srv.node.service.hold('s2', { count: 1 });
    await srv.node.service.hold('s3', { count: 1 });
    // Frames arrive in order: once the s3 delta is here, an s2 delta would have been too.
    await c.next((f) => f.type === 'delta' && f.showId === 's3');
    assert.equal(c.frames.filter((f) => f.showId === 's2').length, 0);
    void h;
  });

  test('upgrades on other paths are refused with 404', async () => {
    const ws = new WebSocket(srv.wsUrl.replace('/v1/ws', '/elsewhere'));
    ws.on('error', () => {});
    const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
    assert.equal(res.statusCode, 404);
    ws.terminate();
  });
});
