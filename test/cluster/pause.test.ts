import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runLoad, seatLabels, verifyShows } from '../../testkit/cluster-load.ts';
import { startCluster, until, type TestCluster } from '../../testkit/cluster.ts';
import { showInput } from '../../testkit/shows.ts';
import { needServices, SERVICE_URLS } from '../../testkit/services.ts';

/**
 * The owner of a show is SIGSTOPped until the others dropped it from the ring and another
 * worker took the show over and accepted writes; then it is SIGCONTed. Whatever it still
 * holds in memory, the log must refuse its writes; it steps down, and the final state is
 * the log's.
 */
describe('a paused owner wakes up fenced', { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ workers: 3, gateways: 1 });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('rejects the old owner writes after SIGCONT and keeps one consistent state', async (t) => {
    const ids = Array.from({ length: 12 }, (_, i) => `pz-${i}`);
    for (const id of ids) assert.equal((await cluster.request('POST', '/v1/shows', showInput(id, 10, 30), { admin: true })).status, 201);
    const showId = ids[0];
    const oldOwner = await cluster.ownerOf(showId);
    const index = cluster.workers.findIndex((w) => w.nodeId === oldOwner);
    const paused = cluster.workers[index];
    // A hold that expires while the owner is paused: its timer fires the moment it wakes.
    const hold = await cluster.request('POST', `/v1/shows/${showId}/holds`, { seats: ['J-30'], ttlSeconds: 1 });
    assert.equal(hold.status, 201);

    const load = runLoad({ url: cluster.gateways[0].url }, ids, seatLabels(10, 29));
    // A failed assertion must not leave the load running (it would keep the process alive).
    t.after(() => load.stop());
    await until(() => ids.every((id) => (load.stats.successes.get(id)?.length ?? 0) >= 2), 30_000, 'load on every show');
    await cluster.killWorker(index, 'SIGSTOP');
    const pausedAt = Date.now();
    // Paused until the gateway's ring no longer has it and another worker serves the show.
    await until(async () => !(await cluster.members()).includes(paused.nodeId), 15_000, 'the paused member to leave the ring');
    await until(() => (load.stats.successes.get(showId) ?? []).some((t) => t > pausedAt), 15_000, 'another owner to accept writes');
    assert.notEqual(await cluster.ownerOf(showId), oldOwner);
    await cluster.killWorker(index, 'SIGCONT');
    const resumedAt = Date.now();

    // The woken worker's stale actors try to write (the overdue hold, commands routed back to
    // it once it rejoins) and are refused by the log: it logs NOT_OWNER on its appends.
    await until(
      () =>
        paused.output.some((line) => {
          try {
            const e = JSON.parse(line) as { code?: string; showId?: string };
            return e.code === 'NOT_OWNER' && typeof e.showId === 'string';
          } catch {
            return false;
          }
        }),
      15_000,
      'the woken owner to be fenced',
    );
    // Load continues across its return to the ring.
    await until(
      () => ids.every((id) => (load.stats.successes.get(id) ?? []).some((t) => t > resumedAt + 500)),
      20_000,
      'every show to serve after the return',
    );
    load.stop();
    const stats = await load.done;
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
    const show = await cluster.request('GET', `/v1/shows/${showId}`);
    assert.equal(show.body.seats.find((s: { id: string }) => s.id === 'J-30').status, 'available', 'the short hold expired');
  });
});
