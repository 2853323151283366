import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { expiryKeys } from '../../src/cluster/expiry-index.ts';
import { startCluster, until, type TestCluster } from '../../testkit/cluster.ts';
import { showInput } from '../../testkit/shows.ts';
import { needServices, SERVICE_URLS } from '../../testkit/services.ts';

/** Detection (member TTL 1.5 s + one 250 ms beat) + sweep (250 ms) + activation, with room for a busy box. */
const EXPIRY_SLACK_MS = 4_000;

describe('hold expiry survives the owner', { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let cluster: TestCluster;
  let redis: Redis;
  before(async () => {
    cluster = await startCluster({ workers: 3, gateways: 1 });
    redis = new Redis(SERVICE_URLS.redis, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    redis?.disconnect();
    await cluster?.stop();
  });

  it('a hold whose owner was SIGKILLed before its deadline expires on the new owner', async () => {
    const ids = ['ex-0', 'ex-1', 'ex-2', 'ex-3', 'ex-4', 'ex-5'];
    const owner = cluster.workers[0].nodeId;
    const mine: string[] = [];
    for (const id of ids) {
      assert.equal((await cluster.request('POST', '/v1/shows', showInput(id, 2, 10), { admin: true })).status, 201);
      if ((await cluster.ownerOf(id)) === owner) mine.push(id);
    }
    // Enough shows that worker 0 owns one; otherwise create more.
    for (let i = ids.length; mine.length === 0; i++) {
      const id = `ex-${i}`;
      assert.equal((await cluster.request('POST', '/v1/shows', showInput(id, 2, 10), { admin: true })).status, 201);
      if ((await cluster.ownerOf(id)) === owner) mine.push(id);
    }
    const showId = mine[0];
    const hold = await cluster.request('POST', `/v1/shows/${showId}/holds`, { seats: ['A-1', 'A-2'], ttlSeconds: 4 });
    assert.equal(hold.status, 201);
    const deadline = Date.parse(hold.body.expiresAt);
    const keys = expiryKeys(cluster.clusterPrefix);
    await until(async () => (await redis.zscore(keys.deadlines, showId)) !== null, 5_000, 'the hold in the expiry index');

    await cluster.killWorker(0, 'SIGKILL');
    assert.ok(Date.now() < deadline, 'the owner died before the deadline');
    const freedAt = await until(
      async () => {
        const r = await cluster.request('GET', `/v1/shows/${showId}`);
        if (r.status !== 200) return false;
        const seats = r.body.seats as Array<{ id: string; status: string }>;
        return seats.filter((s) => s.id === 'A-1' || s.id === 'A-2').every((s) => s.status === 'available') ? Date.now() : false;
      },
      20_000,
      'the seats to return to sale',
    );
    process.stderr.write(`expiry: seats free ${freedAt - deadline} ms after the deadline\n`);
    assert.ok(freedAt - deadline < EXPIRY_SLACK_MS, `freed ${freedAt - deadline} ms after the deadline`);
    // The seats are for sale again: someone else can hold them.
    assert.equal((await cluster.request('POST', `/v1/shows/${showId}/holds`, { seats: ['A-1', 'A-2'] })).status, 201);
  });
});
