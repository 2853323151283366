import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runLoad, seatLabels, verifyShows } from '../../testkit/cluster-load.ts';
import { startCluster, until, type TestCluster } from '../../testkit/cluster.ts';
import { showInput } from '../../testkit/shows.ts';
import { needServices, SERVICE_URLS } from '../../testkit/services.ts';

/** A fourth worker joins under load: shows move to it, clients notice nothing. */
describe('a worker joins under load', { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ workers: 3, gateways: 1 });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('moves shows to the new worker with only business answers reaching the clients', async (t) => {
    const ids = Array.from({ length: 40 }, (_, i) => `jn-${i}`);
    for (const id of ids) assert.equal((await cluster.request('POST', '/v1/shows', showInput(id, 10, 30), { admin: true })).status, 201);
    const before = new Map(await Promise.all(ids.map(async (id) => [id, await cluster.ownerOf(id)] as const)));
    const load = runLoad({ url: cluster.gateways[0].url }, ids, seatLabels(10, 30));
    // A failed assertion must not leave the load running (it would keep the process alive).
    t.after(() => load.stop());
    await until(() => ids.every((id) => (load.stats.successes.get(id)?.length ?? 0) >= 2), 30_000, 'load on every show');

    const joined = await cluster.addWorker();
    const joinedAt = Date.now();
    const owners = new Map(await Promise.all(ids.map(async (id) => [id, await cluster.ownerOf(id)] as const)));
    const toNew = ids.filter((id) => owners.get(id) === joined.nodeId);
    assert.ok(toNew.length > 0, 'some shows moved to the new worker');
    for (const id of ids)
      if (owners.get(id) !== joined.nodeId) assert.equal(owners.get(id), before.get(id), `${id} moved between old workers`);
    await until(
      () => ids.every((id) => (load.stats.successes.get(id) ?? []).some((t) => t > joinedAt + 500)),
      20_000,
      'every show to serve after the join',
    );
    load.stop();
    const stats = await load.done;

    for (const status of stats.statuses.keys()) assert.ok(status === 201 || status === 204 || status === 409, `clients saw ${status}`);
    const served = await cluster.metric(joined, 'seat_cluster_endpoint_ops_total');
    assert.ok(served > 0, 'the new worker served ops');
    process.stderr.write(
      `join: ${JSON.stringify({ moved: toNew.length, opsOnNewWorker: served, commands: stats.commands, retries: stats.retries })}\n`,
    );
    const problems = await verifyShows(
      cluster.gateways[0].url,
      {
        natsUrl: SERVICE_URLS.nats,
        databaseUrl: cluster.databaseUrl,
        stream: cluster.stream,
        eventSubjectPrefix: cluster.eventSubjectPrefix,
      },
      ids,
      stats.confirmed,
    );
    assert.deepEqual(problems, []);
  });
});
