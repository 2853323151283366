import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { showDef } from '../../testkit/shows.ts';
import { MapReplica, TestClient, startWsServer, type Frame, type WsTestServer } from './ws-harness.ts';

/** Frames for `showId` until `subscribed` or `snapshot` (inclusive), in arrival order. */
async function untilSettled(c: TestClient, showId: string): Promise<Frame[]> {
  const out: Frame[] = [];
  for (;;) {
    const f = await c.next((x) => x.showId === showId);
    out.push(f);
    if (f.type === 'subscribed' || f.type === 'snapshot') return out;
  }
}

describe('websocket resubscribe', () => {
  const servers: WsTestServer[] = [];
  const clients: TestClient[] = [];
  after(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.stop();
  });
  const start = async (resnapshotWindowMs?: number) => {
    const srv = await startWsServer({
      shows: [showDef('r1')],
      ws: { tickMs: 10, maxSnapshotsPerWindow: 1, ...(resnapshotWindowMs !== undefined ? { resnapshotWindowMs } : {}) },
    });
    servers.push(srv);
    return srv;
  };
  const connect = async (srv: WsTestServer) => {
    const c = await TestClient.connect(srv.wsUrl);
    clients.push(c);
    return c;
  };

  test('resubscribes within the window get deltas from the version the socket has, not the map again', async () => {
    const srv = await start();
    const svc = srv.node.service;
    const c = await connect(srv);
    c.send({ type: 'subscribe', showId: 'r1' });
    const snap = await c.next((f) => f.type === 'snapshot');
    const replica = new MapReplica();
    replica.apply(snap);

    // Resubscribing on a live subscription, five times over: no snapshot, the version it has.
    for (let i = 0; i < 5; i++) {
      c.send({ type: 'subscribe', showId: 'r1' });
      const frames = await untilSettled(c, 'r1');
      assert.deepEqual(
        frames.map((f) => f.type),
        ['subscribed'],
      );
      assert.equal(frames[0].version, snap.version);
    }

    // Past the snapshot budget (one used, one per unsubscribe): unsubscribe, miss a commit,
    // subscribe again: the missed delta, then subscribed.
    c.send({ type: 'unsubscribe', showId: 'r1' });
    const watcher = await connect(srv);
    watcher.send({ type: 'subscribe', showId: 'r1' });
    await watcher.next((f) => f.type === 'snapshot');
    const h = await svc.hold('r1', { seats: ['A-4'] });
    const map = await svc.getSeatMap('r1');
    // The channel has broadcast it once the other watcher sees it: the ring can serve it.
    await watcher.next((f) => f.type === 'delta' && f.version === map.version);
    c.send({ type: 'subscribe', showId: 'r1' });
    const frames = await untilSettled(c, 'r1');
    assert.deepEqual(
      frames.map((f) => f.type),
      ['delta', 'subscribed'],
    );
    for (const f of frames) replica.apply(f);
    assert.equal(replica.version, map.version);
    assert.equal(replica.compact, map.seats);
    assert.equal(replica.gaps, 0);

    // A version the client makes up does not buy a snapshot either.
    c.send({ type: 'subscribe', showId: 'r1', fromVersion: 1_000_000 });
    assert.deepEqual(
      (await untilSettled(c, 'r1')).map((f) => f.type),
      ['subscribed'],
    );

    // Live deltas keep flowing to the resubscribed socket.
    await svc.release('r1', h.holdId, h.holdToken);
    const released = await svc.getSeatMap('r1');
    for (;;) {
      const f = await c.next((x) => x.type === 'delta' || x.type === 'snapshot');
      assert.equal(f.type, 'delta');
      replica.apply(f);
      if (replica.version >= released.version) break;
    }
    assert.equal(replica.compact, released.seats);
    assert.equal(replica.snapshots, 1, 'one full map for the whole session');
    assert.equal(c.frames.filter((f) => f.type === 'snapshot').length, 0);

    // Another socket is another client: its first subscribe gets the map.
    const other = await connect(srv);
    other.send({ type: 'subscribe', showId: 'r1' });
    assert.equal((await untilSettled(other, 'r1'))[0].type, 'snapshot');
  });

  test('after an unsubscribe a socket gets the map again, a bounded number of times per window', async () => {
    const srv = await startWsServer({ shows: [showDef('r2')], ws: { tickMs: 10, maxSnapshotsPerWindow: 3 } });
    servers.push(srv);
    const c = await connect(srv);
    const kinds: string[] = [];
    for (let i = 0; i < 6; i++) {
      c.send({ type: 'subscribe', showId: 'r2' });
      kinds.push((await untilSettled(c, 'r2')).map((f) => f.type).join(','));
      c.send({ type: 'unsubscribe', showId: 'r2' });
    }
    assert.deepEqual(kinds, ['snapshot', 'snapshot', 'snapshot', 'subscribed', 'subscribed', 'subscribed']);
  });

  test('outside the window a resubscribe gets a fresh snapshot', async () => {
    const srv = await start(0);
    const c = await connect(srv);
    c.send({ type: 'subscribe', showId: 'r1' });
    await c.next((f) => f.type === 'snapshot');
    c.send({ type: 'subscribe', showId: 'r1' });
    assert.deepEqual(
      (await untilSettled(c, 'r1')).map((f) => f.type),
      ['snapshot'],
    );
  });
});
