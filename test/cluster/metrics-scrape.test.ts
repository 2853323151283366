import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startCluster, type TestCluster } from '../../testkit/cluster.ts';
import { HISTOGRAM_SERIES, deployedExprs, metricNames } from '../support/dashboard-metrics.ts';
import { showInput } from '../../testkit/shows.ts';
import { needServices } from '../../testkit/services.ts';

/** Metric names a /metrics page declares (`# TYPE` lines: present even before any value). */
async function declared(url: string): Promise<Set<string>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
}

describe('what Prometheus scrapes from a cluster', { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ workers: 1, gateways: 1 });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('every metric the dashboard and the alerts use is served by a gateway or a worker, with live values', async () => {
    const id = `scrape-${process.pid}`;
    assert.equal((await cluster.request('POST', '/v1/shows', showInput(id), { admin: true })).status, 201);
    const held = await cluster.request('POST', `/v1/shows/${id}/holds`, { seats: ['A-1'] });
    assert.equal(held.status, 201);
    const taken = await cluster.request('POST', `/v1/shows/${id}/holds`, { seats: ['A-1'] });
    assert.equal(taken.body.error.code, 'SEAT_UNAVAILABLE');

    const [gateway] = cluster.gateways;
    const [worker] = cluster.workers;
    const served = new Set([...(await declared(gateway.url)), ...(await declared(worker.url))]);
    const { dashboard, rules } = deployedExprs();
    const missing = new Set<string>();
    for (const name of [...dashboard, ...rules].flatMap(metricNames)) {
      if (!served.has(name) && !served.has(HISTOGRAM_SERIES.exec(name)?.[1] ?? '')) missing.add(name);
    }
    assert.deepEqual([...missing], []);

    // The worker owns the show: its holds, events, appends and ownership are on its page.
    assert.equal(await cluster.metric(worker, 'seat_active_holds'), 1);
    assert.equal(await cluster.metric(worker, 'seat_events_committed_total', { show: id, type: 'SeatsHeld' }), 1);
    assert.ok((await cluster.metric(worker, 'seat_log_append_duration_seconds_count')) >= 2);
    assert.ok((await cluster.metric(worker, 'seat_cluster_owned_shows')) >= 1);
    // The gateway sees the one worker, and answered the conflict.
    assert.equal(await cluster.metric(gateway, 'seat_cluster_ring_members'), 1);
    assert.equal(await cluster.metric(gateway, 'seat_commands_total', { command: 'hold', outcome: 'SEAT_UNAVAILABLE' }), 1);
  });
});
