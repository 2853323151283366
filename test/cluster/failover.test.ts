import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { failoverTimes, runLoad, seatLabels, verifyShows } from '../../testkit/cluster-load.ts';
import { startCluster, until, type TestCluster } from '../../testkit/cluster.ts';
import { showInput } from '../../testkit/shows.ts';
import { needServices, SERVICE_URLS } from '../../testkit/services.ts';

const SHOWS = 100;
// Enough seats that no show sells out during the test (a sold-out show has no more successes to time).
const ROWS = 10;
const PER_ROW = 20;

/**
 * One worker of three is SIGKILLed while clients hold and confirm on 100 shows through the
 * gateway. Every show of the dead worker must serve again within detection + takeover, and
 * the promises must hold at the end.
 */
describe('failover under load', { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ workers: 3, gateways: 1 });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('a SIGKILLed worker costs its shows about a second and no seat is sold twice', async (t) => {
    const ids = Array.from({ length: SHOWS }, (_, i) => `fo-${i}`);
    for (const id of ids)
      assert.equal((await cluster.request('POST', '/v1/shows', showInput(id, ROWS, PER_ROW), { admin: true })).status, 201);
    const victim = cluster.workers[0];
    const owners = new Map(await Promise.all(ids.map(async (id) => [id, await cluster.ownerOf(id)] as const)));
    const affected = ids.filter((id) => owners.get(id) === victim.nodeId);
    assert.ok(affected.length > 10, 'the victim owns a share of the shows');

    const load = runLoad({ url: cluster.gateways[0].url }, ids, seatLabels(ROWS, PER_ROW));
    // A failed assertion must not leave the load running (it would keep the process alive).
    t.after(() => load.stop());
    // Let every show serve a few commands first.
    await until(() => ids.every((id) => (load.stats.successes.get(id)?.length ?? 0) >= 2), 30_000, 'load on every show');
    const killAt = Date.now();
    await cluster.killWorker(0, 'SIGKILL');
    await until(
      () => affected.every((id) => (load.stats.successes.get(id) ?? []).some((t) => t > killAt)),
      30_000,
      'every affected show to serve again',
    );
    // A little more load on the new owners, then stop.
    const after = Date.now();
    await until(
      () => affected.every((id) => (load.stats.successes.get(id) ?? []).some((t) => t > after)),
      10_000,
      'more commands after recovery',
    );
    load.stop();
    const stats = await load.done;

    const times = failoverTimes(stats, affected, killAt);
    process.stderr.write(
      `failover: ${JSON.stringify({ affected: affected.length, ...times, commands: stats.commands, retries: stats.retries, statuses: Object.fromEntries(stats.statuses) })}\n`,
    );
    assert.equal(times.neverRecovered, 0);
    // Detection (member TTL 1.5 s + a heartbeat) + takeover; generous for a shared 2-core box.
    assert.ok(times.maxMs < 10_000, `slowest show recovered after ${times.maxMs} ms`);
    for (const status of stats.statuses.keys()) assert.ok(status === 201 || status === 204 || status === 409, `clients saw ${status}`);

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
