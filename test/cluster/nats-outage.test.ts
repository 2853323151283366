import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, until, type TestCluster } from '../../testkit/cluster.ts';
import { showInput } from '../../testkit/shows.ts';
import { startPrivateNats, type PrivateService } from '../../testkit/private-services.ts';
import { needServices } from '../../testkit/services.ts';

/**
 * The cluster's own nats-server is killed and started again (same store, so the event log
 * survives). While it is away the gateway answers 503 UNAVAILABLE with Retry-After instead of
 * holding requests until their deadline runs out (504 DEADLINE_EXCEEDED); a hold that was in
 * flight when it died is resent under its key once it is back, and lands once.
 */
describe('NATS outage: the gateway fails fast and resends what was in flight', { skip: await needServices('postgres', 'redis') }, () => {
  let nats: PrivateService;
  let cluster: TestCluster;
  const showId = 'nats-out-1';

  before(async () => {
    nats = await startPrivateNats();
    cluster = await startCluster({
      workers: 1,
      gateways: 1,
      natsUrl: nats.url,
      // A long deadline, so a request held until it runs out could not pass for a fast failure;
      // a long member TTL, so the worker paused below stays in the ring.
      env: { REQUEST_TIMEOUT_MS: '20000', MEMBER_TTL_MS: '30000', HEARTBEAT_INTERVAL_MS: '200' },
    });
    assert.equal((await cluster.request('POST', '/v1/shows', showInput(showId, 4, 10), { admin: true })).status, 201);
  });

  after(async () => {
    await nats?.start().catch(() => undefined); // the cluster's teardown deletes its stream there
    await cluster?.stop();
    await nats?.stop();
  });

  const gatewayConnected = async () => (await cluster.metric(cluster.gateways[0], 'seat_cluster_nats_connected')) === 1;

  it('answers 503 UNAVAILABLE with Retry-After while NATS is down, and serves again once it is back', async (t) => {
    assert.equal((await cluster.request('POST', `/v1/shows/${showId}/holds`, { seats: ['A-1'] })).status, 201);
    await nats.kill();
    await until(async () => !(await gatewayConnected()), 10_000, 'the gateway to see NATS gone');
    assert.equal((await fetch(`${cluster.gateways[0].url}/readyz`)).ok, false, 'not ready without NATS');

    const started = performance.now();
    const refused = await cluster.request('POST', `/v1/shows/${showId}/holds`, { seats: ['A-2'] });
    t.diagnostic(`answered ${refused.status} after ${Math.round(performance.now() - started)} ms (deadline 20000 ms)`);
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error.code, 'UNAVAILABLE', 'a fast refusal, not a deadline run out');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    const read = await cluster.request('GET', `/v1/shows/${showId}`);
    assert.equal(read.status, 503);
    assert.equal(read.body.error.code, 'UNAVAILABLE');

    await nats.start();
    const held = await until(
      async () => {
        const r = await cluster.request(
          'POST',
          `/v1/shows/${showId}/holds`,
          { seats: ['A-2'] },
          { headers: { 'idempotency-key': 'hold-after-nats-returned' } },
        );
        if (r.status !== 201) t.diagnostic(`while NATS returns: ${r.status} ${JSON.stringify(r.body)}`);
        return r.status === 201 ? r : undefined;
      },
      20_000,
      'holds to work again',
    );
    assert.deepEqual(held.body.seats, ['A-2']);
  });

  it('resends a hold that was in flight when NATS died, once it is back, and the hold is made once', async () => {
    await until(gatewayConnected, 20_000, 'the gateway connected');
    const routedBefore = await cluster.metric(cluster.gateways[0], 'seat_cluster_routed_ops_total');
    const dropsBefore = await cluster.metric(cluster.gateways[0], 'seat_cluster_nats_drop_retries_total');
    // The owner is paused, so the op is out (sent to NATS) but not answered when NATS dies.
    await cluster.killWorker(0, 'SIGSTOP');
    let resumed = false;
    try {
      const pending = cluster.request('POST', `/v1/shows/${showId}/holds`, { seats: ['B-1', 'B-2'] });
      await until(
        async () => (await cluster.metric(cluster.gateways[0], 'seat_cluster_routed_ops_total')) > routedBefore,
        10_000,
        'the hold to be sent',
      );
      await nats.kill();
      await until(
        async () => (await cluster.metric(cluster.gateways[0], 'seat_cluster_nats_drop_retries_total')) > dropsBefore,
        10_000,
        'the in-flight hold to be set for a resend',
      );
      await nats.start();
      await cluster.killWorker(0, 'SIGCONT');
      resumed = true;

      const answer = await pending;
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      assert.deepEqual(answer.body.seats, ['B-1', 'B-2']);
    } finally {
      if (!resumed) await cluster.killWorker(0, 'SIGCONT');
    }
    const show = await cluster.request('GET', `/v1/shows/${showId}`);
    assert.equal(show.status, 200);
    const heldB = show.body.seats.filter((s: { id: string; status: string }) => s.id.startsWith('B-') && s.status === 'held');
    assert.deepEqual(heldB.map((s: { id: string }) => s.id).sort(), ['B-1', 'B-2'], 'one hold, no other B seat taken');
  });
});
