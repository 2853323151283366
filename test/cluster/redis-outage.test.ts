import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startCluster, until, type TestCluster, type WorkerProcess } from '../../testkit/cluster.ts';
import { showInput } from '../../testkit/shows.ts';
import { startPrivateRedis, type PrivateService } from '../../testkit/private-services.ts';
import { needServices } from '../../testkit/services.ts';

const MEMBER_TTL_MS = 800;
const ROWS = 'ABCDEFGHIJ';
const seatAt = (n: number) => `${ROWS[Math.floor(n / 30)]}-${(n % 30) + 1}`;

/**
 * Redis is advice, the log is the law: with the cluster's Redis killed, workers keep serving
 * the shows they own on the ring they last saw (holds and reads), well past their lease
 * TTL; when Redis comes back empty they rejoin with their shows still in memory (no show is
 * loaded again) and keep serving.
 */
describe('a Redis outage', { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let redis: PrivateService;
  let cluster: TestCluster;
  before(async () => {
    redis = await startPrivateRedis();
    cluster = await startCluster({ workers: 2, gateways: 1, redisUrl: redis.url, env: { MEMBER_TTL_MS: String(MEMBER_TTL_MS) } });
  });
  after(async () => {
    await cluster?.stop();
    await redis?.stop();
  });

  const stats = async (w: WorkerProcess) =>
    (await (await fetch(`${w.url}/v1/cluster/stats`)).json()) as { activations: number; activeShows: number };
  const logged = (w: WorkerProcess, msg: string) => w.output.some((line) => line.includes(msg));

  it('keeps holds and reads answering through it and rejoins without reloading warm shows', async () => {
    // Shows on both workers: six, and more if the ring happened to put them all on one.
    const ids: string[] = [];
    while (ids.length < 6 || (new Set(await Promise.all(ids.map((id) => cluster.ownerOf(id)))).size < 2 && ids.length < 30)) {
      const id = `ro-${ids.length}`;
      assert.equal((await cluster.request('POST', '/v1/shows', showInput(id, 10, 30), { admin: true })).status, 201);
      ids.push(id);
    }
    let next = 0;
    const statuses = new Map<string, number>();
    const round = async () => {
      const n = next++;
      for (const id of ids) {
        const hold = await cluster.request('POST', `/v1/shows/${id}/holds`, { seats: [seatAt(n)], ttlSeconds: 300 });
        const read = await cluster.request('GET', `/v1/shows/${id}`);
        for (const [what, status] of [
          [`hold ${hold.body?.error?.code ?? ''}`, hold.status],
          [`read ${read.body?.error?.code ?? ''}`, read.status],
        ] as const)
          statuses.set(`${what} ${status}`, (statuses.get(`${what} ${status}`) ?? 0) + 1);
      }
      return n;
    };
    await round();
    const owners = await Promise.all(ids.map((id) => cluster.ownerOf(id)));
    assert.equal(new Set(owners).size, 2, 'both workers own shows');
    const before = await Promise.all(cluster.workers.map(stats));

    await redis.kill();
    const killedAt = Date.now();
    const heldDuringOutage: number[] = [];
    // Through the outage: past both workers noticing it, and three lease TTLs long.
    while (
      !(cluster.workers.every((w) => logged(w, 'serving owned shows on the frozen ring')) && Date.now() - killedAt > 3 * MEMBER_TTL_MS)
    )
      heldDuringOutage.push(await round());
    heldDuringOutage.push(await round());
    // Hold timers keep firing: a short hold made now expires while Redis is still down.
    const short = await cluster.request('POST', `/v1/shows/${ids[0]}/holds`, { seats: ['J-30'], ttlSeconds: 1 });
    assert.equal(short.status, 201);
    await until(
      async () =>
        (await cluster.request('GET', `/v1/shows/${ids[0]}`)).body.seats.find((s: { id: string }) => s.id === 'J-30').status ===
        'available',
      10_000,
      'the short hold to expire during the outage',
    );
    assert.deepEqual(
      [...statuses.keys()].sort(),
      ['hold  201', 'read  200'],
      `answers during the outage: ${JSON.stringify([...statuses])}`,
    );
    for (const w of cluster.workers) {
      assert.equal((await fetch(`${w.url}/readyz`)).ok, true, `${w.nodeId} stays ready`);
      assert.equal(await cluster.metric(w, 'seat_cluster_serving_through_outage'), 1);
    }

    await redis.start();
    const probe = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      await until(
        async () => (await probe.zcard(`${cluster.clusterPrefix}:members`)) === 2,
        15_000,
        'both workers to beat into the restarted Redis',
      );
    } finally {
      probe.disconnect();
    }
    await cluster.waitForMembers(2);
    await round();
    assert.deepEqual([...statuses.keys()].sort(), ['hold  201', 'read  200'], `answers after the outage: ${JSON.stringify([...statuses])}`);

    const afterStats = await Promise.all(cluster.workers.map(stats));
    for (let i = 0; i < cluster.workers.length; i++) {
      assert.equal(afterStats[i].activations, before[i].activations, `${cluster.workers[i].nodeId} loaded no show again`);
      assert.equal(await cluster.metric(cluster.workers[i], 'seat_show_activations'), before[i].activations);
      assert.equal(await cluster.metric(cluster.workers[i], 'seat_cluster_serving_through_outage'), 0);
      assert.equal(logged(cluster.workers[i], 'dropping every show'), false);
    }
    assert.deepEqual(await Promise.all(ids.map((id) => cluster.ownerOf(id))), owners, 'the ring is the one from before');
    // What was held during the outage is still held.
    for (const id of ids) {
      const show = await cluster.request('GET', `/v1/shows/${id}`);
      for (const n of heldDuringOutage)
        assert.notEqual(show.body.seats.find((s: { id: string }) => s.id === seatAt(n)).status, 'available');
    }
  });
});
