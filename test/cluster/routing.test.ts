import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect } from 'nats';
import { startCluster, until, type TestCluster } from '../../testkit/cluster.ts';
import { showInput } from '../../testkit/shows.ts';
import { SERVICE_URLS, needServices } from '../../testkit/services.ts';
import { MapReplica, TestClient } from '../integration/ws-harness.ts';

describe('routing through a gateway', { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ workers: 3, gateways: 1 });
  });
  after(async () => {
    await cluster?.stop();
  });

  const create = async (id: string, rows = 2, perRow = 10) => {
    const r = await cluster.request('POST', '/v1/shows', showInput(id, rows, perRow), { admin: true });
    assert.equal(r.status, 201);
    return r.body;
  };
  const hold = (id: string, seats: string[], key?: string) =>
    cluster.request('POST', `/v1/shows/${id}/holds`, { seats }, key ? { headers: { 'idempotency-key': key } } : {});

  test('create, hold, confirm, release and the catalog, on shows of every worker', async () => {
    // Two shows on every worker (node ids differ per run, so pick them from the ring).
    const candidates = Array.from({ length: 60 }, (_, i) => `r-${i}`);
    const owners = await Promise.all(candidates.map((id) => cluster.ownerOf(id)));
    const ids: string[] = [];
    for (const w of cluster.workers) ids.push(...candidates.filter((_, i) => owners[i] === w.nodeId).slice(0, 2));
    assert.equal(ids.length, 6);
    for (const id of ids) {
      await create(id);
      const h1 = await hold(id, ['A-1', 'A-2']);
      assert.equal(h1.status, 201);
      const taken = await hold(id, ['A-2', 'A-3']);
      assert.equal(taken.status, 409);
      assert.equal(taken.body.error.code, 'SEAT_UNAVAILABLE');
      const badToken = await cluster.request(
        'POST',
        `/v1/shows/${id}/holds/${h1.body.holdId}/confirm`,
        {},
        { headers: { 'hold-token': 'x'.repeat(43) } },
      );
      assert.equal(badToken.status, 403);
      const booked = await cluster.request(
        'POST',
        `/v1/shows/${id}/holds/${h1.body.holdId}/confirm`,
        {},
        { headers: { 'hold-token': h1.body.holdToken } },
      );
      assert.equal(booked.status, 201);
      assert.deepEqual(booked.body.seats, ['A-1', 'A-2']);
      const h2 = await hold(id, ['B-1']);
      assert.equal(h2.status, 201);
      const released = await cluster.request('DELETE', `/v1/shows/${id}/holds/${h2.body.holdId}`, undefined, {
        headers: { 'hold-token': h2.body.holdToken },
      });
      assert.equal(released.status, 204);
      const show = await cluster.request('GET', `/v1/shows/${id}`);
      const status = Object.fromEntries(show.body.seats.map((s: { id: string; status: string }) => [s.id, s.status]));
      assert.equal(status['A-1'], 'booked');
      assert.equal(status['A-2'], 'booked');
      assert.equal(status['B-1'], 'available');
      const booking = await cluster.request('GET', `/v1/shows/${id}/bookings/${booked.body.bookingId}`);
      assert.equal(booking.status, 200);
    }
    const catalog = await until(
      async () => {
        const r = await cluster.request('GET', '/v1/shows?limit=100');
        const listed = new Set((r.body.shows as Array<{ id: string }>).map((s) => s.id));
        return ids.every((id) => listed.has(id)) ? listed : false;
      },
      5_000,
      'catalog to list every show',
    );
    assert.ok(catalog.size >= ids.length);
    const missing = await cluster.request('GET', '/v1/shows/nope-1');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'SHOW_NOT_FOUND');
  });

  test('an idempotency key replays through the router', async () => {
    await create('idem-1');
    const a = await hold('idem-1', ['A-5'], 'router-key-1-0123456789');
    const b = await hold('idem-1', ['A-5'], 'router-key-1-0123456789');
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(a.body.holdId, b.body.holdId);
  });

  test('ops bound for one owner are packed: the workers receive fewer messages than ops', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `pack-${i}`);
    for (const id of ids) await create(id, 10, 20);
    const messages = () =>
      Promise.all(cluster.workers.map((w) => cluster.metric(w, 'seat_cluster_endpoint_messages_total'))).then((v) =>
        v.reduce((a, b) => a + b),
      );
    const ops = () =>
      Promise.all(cluster.workers.map((w) => cluster.metric(w, 'seat_cluster_endpoint_ops_total'))).then((v) => v.reduce((a, b) => a + b));
    const [m0, o0] = [await messages(), await ops()];
    const rows = 'ABCDEFGHIJ';
    const results = await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        hold(ids[i % ids.length], [`${rows[Math.floor(i / 6 / 20) % 10]}-${(Math.floor(i / 6) % 20) + 1}`]),
      ),
    );
    assert.ok(
      results.every((r) => r.status === 201),
      `statuses: ${[...new Set(results.map((r) => r.status))]}`,
    );
    const [m1, o1] = [await messages(), await ops()];
    assert.ok(o1 - o0 >= 600, `ops ${o1 - o0}`);
    assert.ok(m1 - m0 < o1 - o0, `messages ${m1 - m0} for ${o1 - o0} ops`);
  });

  test("a WebSocket on the gateway sees the owner's deltas, and resyncs with a snapshot after a gap", async () => {
    await create('live-1');
    const client = await TestClient.connect(cluster.gateways[0].ws);
    try {
      const map = new MapReplica();
      client.send({ type: 'subscribe', showId: 'live-1' });
      map.apply(await client.next((f) => f.type === 'snapshot'));
      const v0 = map.version;
      assert.equal((await hold('live-1', ['A-1'])).status, 201);
      const delta = await client.next((f) => f.type === 'delta');
      map.apply(delta);
      assert.equal(delta.fromVersion, v0);
      assert.equal(map.version, v0 + 1);
      assert.equal(map.seats[map.index.get('A-1')!], 'h');

      // A delta from the future (as after a lost message): the gateway reloads and sends a snapshot.
      const nc = await connect({ servers: SERVICE_URLS.nats });
      try {
        nc.publish(
          `${cluster.busSubjectPrefix}.seats.delta.live-1`,
          JSON.stringify({
            showId: 'live-1',
            fromVersion: map.version + 5,
            version: map.version + 6,
            layoutVersion: 1,
            showStatus: 'scheduled',
            changes: [],
            resync: false,
          }),
        );
        await nc.flush();
      } finally {
        await nc.close();
      }
      const snap = await client.next((f) => f.type === 'snapshot');
      map.apply(snap);
      assert.equal(map.version, v0 + 1);
      assert.equal((await hold('live-1', ['A-2'])).status, 201);
      map.apply(await client.next((f) => f.type === 'delta'));
      assert.equal(map.version, v0 + 2);
      assert.equal(map.gaps, 0);
    } finally {
      client.close();
    }
  });

  test('a report and a seat history are read on the owner through the gateway', async () => {
    await create('rep-1');
    const h = await hold('rep-1', ['A-3']);
    const booked = await cluster.request(
      'POST',
      `/v1/shows/rep-1/holds/${h.body.holdId}/confirm`,
      {},
      { headers: { 'hold-token': h.body.holdToken } },
    );
    assert.equal(booked.status, 201);
    const cancelled = await cluster.request('POST', `/v1/shows/rep-1/bookings/${booked.body.bookingId}/cancel`, {}, { admin: true });
    assert.equal(cancelled.status, 200);
    assert.equal((await hold('rep-1', ['A-4'])).status, 201);
    const report = await cluster.request('GET', '/v1/shows/rep-1/report', undefined, { admin: true });
    assert.equal(report.status, 200);
    assert.deepEqual(report.body.seats, { available: 19, held: 1, booked: 0, blocked: 0 });
    assert.deepEqual(report.body.sales, {
      bookings: 0,
      seats: 0,
      gross: booked.body.total,
      refunded: booked.body.total,
      net: 0,
      currency: 'INR',
    });
    const history = await cluster.request('GET', '/v1/shows/rep-1/seats/A-3/history', undefined, { admin: true });
    assert.equal(history.status, 200);
    assert.deepEqual(
      history.body.history.map((e: { status: string }) => e.status),
      ['held', 'booked', 'available'],
    );
    const unknown = await cluster.request('GET', '/v1/shows/rep-1/seats/Q-1/history', undefined, { admin: true });
    assert.equal(unknown.body.error.code, 'NOT_FOUND');
  });

  test('deltas continue across an ownership change (the owner is killed)', async () => {
    await create('move-1');
    const client = await TestClient.connect(cluster.gateways[0].ws);
    try {
      const map = new MapReplica();
      client.send({ type: 'subscribe', showId: 'move-1' });
      map.apply(await client.next((f) => f.type === 'snapshot'));
      assert.equal((await hold('move-1', ['A-1'])).status, 201);
      map.apply(await client.next((f) => f.type === 'delta'));
      const owner = await cluster.ownerOf('move-1');
      const index = cluster.workers.findIndex((w) => w.nodeId === owner);
      await cluster.killWorker(index, 'SIGKILL');
      // The gateway absorbs the move: the client only sees a (possibly slower) 201.
      const after = await hold('move-1', ['A-2']);
      assert.equal(after.status, 201);
      assert.notEqual(await cluster.ownerOf('move-1'), owner);
      const show = await cluster.request('GET', '/v1/shows/move-1');
      await until(
        async () => {
          const f = await client.next((x) => x.type === 'delta' || x.type === 'snapshot', 5_000);
          map.apply(f);
          return map.version >= show.body.version;
        },
        10_000,
        'the watcher to catch up',
      );
      assert.equal(map.gaps, 0);
      assert.equal(map.seats[map.index.get('A-1')!], 'h');
      assert.equal(map.seats[map.index.get('A-2')!], 'h');
    } finally {
      client.close();
    }
  });
});
