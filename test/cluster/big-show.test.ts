import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CLIENT_CHANNEL_OPTIONS } from '../../src/gateway/grpc/server-options.ts';
import { adminMetadata, call, seatClient, showRequest, type Client } from '../integration/grpc-harness.ts';
import { MapReplica, TestClient } from '../integration/ws-harness.ts';
import { startCluster, type TestCluster } from '../../testkit/cluster.ts';
import { rowLabel, showInput } from '../../testkit/shows.ts';
import { needServices } from '../../testkit/services.ts';

/**
 * Stadium-sized shows through a gateway: every answer about a 200,000-seat show is far
 * above NATS's 1 MiB payload, so each one has to cross the hop in pieces.
 */
const ROWS = 200;
const PER_ROW = 1_000;
const SEATS = ROWS * PER_ROW;

describe('a stadium through a 3-worker cluster', { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let cluster: TestCluster;
  let grpc: Client;
  before(async () => {
    cluster = await startCluster({ workers: 3, gateways: 1, env: { RATE_LIMIT_HOLDS_PER_MINUTE: '0' } });
    grpc = seatClient(cluster.gateways[0].grpc, CLIENT_CHANNEL_OPTIONS);
  });
  after(async () => {
    grpc?.close();
    await cluster?.stop();
  });

  const hold = (id: string, seats: string[]) => cluster.request('POST', `/v1/shows/${id}/holds`, { seats });
  const confirm = (id: string, h: { holdId: string; holdToken: string }) =>
    cluster.request('POST', `/v1/shows/${id}/holds/${h.holdId}/confirm`, {}, { headers: { 'hold-token': h.holdToken } });

  test('create, read full and compact, snapshots on both doors, hold, confirm and cancel', async () => {
    const created = await cluster.request('POST', '/v1/shows', showInput('stadium', ROWS, PER_ROW), { admin: true });
    assert.equal(created.status, 201, JSON.stringify(created.body).slice(0, 300));
    assert.equal(created.body.capacity, SEATS);
    assert.equal(created.body.seats.length, SEATS);
    assert.deepEqual(created.body.seats[SEATS - 1], {
      id: `${rowLabel(ROWS - 1)}-${PER_ROW}`,
      category: 'gold',
      price: 50000,
      status: 'available',
    });

    const holds = [];
    for (let r = 0; r < 4; r++) {
      const h = await hold('stadium', [`${rowLabel(100 + r)}-1`, `${rowLabel(100 + r)}-2`]);
      assert.equal(h.status, 201);
      holds.push(h.body);
    }
    const bookings = [];
    for (const h of holds.slice(0, 3)) {
      const b = await confirm('stadium', h);
      assert.equal(b.status, 201);
      bookings.push(b.body.bookingId);
    }
    const cancelled = await cluster.request(
      'POST',
      '/v1/shows/stadium/bookings/cancel',
      { bookingIds: bookings.slice(0, 2) },
      { admin: true },
    );
    assert.equal(cancelled.status, 200);
    assert.deepEqual(
      cancelled.body.bookings.map((b: { status: string }) => b.status),
      ['cancelled', 'cancelled'],
    );

    // The same map through every read path: 2 seats held, 2 booked, the rest available.
    const expected = new Map([
      [`${rowLabel(102)}-1`, 'booked'],
      [`${rowLabel(102)}-2`, 'booked'],
      [`${rowLabel(103)}-1`, 'held'],
      [`${rowLabel(103)}-2`, 'held'],
    ]);
    const full = await cluster.request('GET', '/v1/shows/stadium');
    assert.equal(full.status, 200);
    assert.equal(full.body.seats.length, SEATS);
    const fullStatus = new Map<string, string>();
    for (const s of full.body.seats as Array<{ id: string; status: string }>) if (s.status !== 'available') fullStatus.set(s.id, s.status);
    assert.deepEqual(fullStatus, expected);
    assert.deepEqual(full.body.counts, { available: SEATS - 4, held: 2, booked: 2, blocked: 0 });

    const compact = await cluster.request('GET', '/v1/shows/stadium?format=compact');
    assert.equal(compact.status, 200);
    assert.equal(compact.body.version, full.body.version);
    assert.equal(compact.body.labels.length, SEATS);
    assert.equal(compact.body.seats.length, SEATS);
    const STATUS: Record<string, string> = { h: 'held', b: 'booked', x: 'blocked' };
    const compactStatus = new Map<string, string>();
    for (let i = 0; i < SEATS; i++)
      if (compact.body.seats[i] !== 'a') compactStatus.set(compact.body.labels[i], STATUS[compact.body.seats[i]]);
    assert.deepEqual(compactStatus, expected);

    const ws = await TestClient.connect(cluster.gateways[0].ws);
    try {
      const map = new MapReplica();
      ws.send({ type: 'subscribe', showId: 'stadium' });
      map.apply(await ws.next((f) => f.type === 'snapshot' || f.type === 'error', 20_000));
      assert.equal(map.version, full.body.version);
      assert.equal(map.compact, compact.body.seats);
    } finally {
      ws.close();
    }

    const snapshot = await new Promise<any>((resolve, reject) => {
      const stream = grpc.WatchShow({ show_id: 'stadium' });
      stream.on('data', (u: any) => {
        if (u.update === 'snapshot') {
          resolve(u.snapshot);
          stream.cancel();
        }
      });
      stream.on('error', (err: Error & { code?: number }) => {
        if (err.code !== 1) reject(err);
      });
    });
    assert.equal(snapshot.version, full.body.version);
    assert.equal(snapshot.labels.length, SEATS);
    assert.equal(snapshot.statuses, compact.body.seats);

    const show = await call(grpc, 'GetShow', { show_id: 'stadium' }, { deadline: Date.now() + 30_000 });
    assert.equal(show.seats.length, SEATS);
  });

  test('a 20,000-seat show created over gRPC reads in full, changes, and its cancellation answers', async () => {
    const created = await call(grpc, 'CreateShow', showRequest('arena', 20, 1_000), {
      metadata: adminMetadata(cluster.adminToken),
      deadline: Date.now() + 60_000,
    });
    assert.equal(created.seats.length, 20_000);
    const h = await hold('arena', ['A-1']);
    assert.equal(h.status, 201);
    const full = await cluster.request('GET', '/v1/shows/arena');
    assert.equal(full.status, 200);
    assert.equal(full.body.seats.length, 20_000);
    assert.equal(full.body.seats[0].status, 'held');
    const changed = await cluster.request('PATCH', '/v1/shows/arena', { title: 'Dune, part two' }, { admin: true });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.title, 'Dune, part two');
    assert.equal(changed.body.seats.length, 20_000);
    const gone = await call(grpc, 'CancelShow', { show_id: 'arena', reason: 'storm' }, { metadata: adminMetadata(cluster.adminToken) });
    assert.deepEqual(gone.released_holds, [h.body.holdId]);
  });

  test('an oversized answer does not fail the small ops sent beside it', async () => {
    // A small show on the stadium's owner, so its holds share messages with the big read.
    const owner = await cluster.ownerOf('stadium');
    let small = '';
    for (let i = 0; !small; i++) if ((await cluster.ownerOf(`side-${i}`)) === owner) small = `side-${i}`;
    assert.equal((await cluster.request('POST', '/v1/shows', showInput(small, 5, 20), { admin: true })).status, 201);
    const [big, ...holds] = await Promise.all([
      cluster.request('GET', '/v1/shows/stadium'),
      ...Array.from({ length: 50 }, (_, i) => hold(small, [`${rowLabel(Math.floor(i / 20))}-${(i % 20) + 1}`])),
    ]);
    assert.equal(big.status, 200);
    assert.equal(big.body.seats.length, SEATS);
    assert.deepEqual([...new Set(holds.map((r) => r.status))], [201]);
    const after = await cluster.request('GET', `/v1/shows/${small}`);
    assert.equal(after.body.counts.held, 50);
  });
});
