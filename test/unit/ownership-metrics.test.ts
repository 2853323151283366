import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordRingChange, trackOwnedShows } from '../../src/cluster/ownership-metrics.ts';
import { registry } from '../../src/metrics.ts';

async function value(name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  return (await metric.get()).values[0]?.value ?? 0;
}

describe('ownership metrics', () => {
  it('reports the ring size and counts the workers that left it', async () => {
    const left = await value('seat_cluster_ring_departures_total');
    recordRingChange({ before: [], after: ['w1', 'w2', 'w3'] });
    assert.equal(await value('seat_cluster_ring_members'), 3);
    recordRingChange({ before: ['w1', 'w2', 'w3'], after: ['w1', 'w4'] });
    assert.equal(await value('seat_cluster_ring_members'), 2);
    assert.equal((await value('seat_cluster_ring_departures_total')) - left, 2);
    recordRingChange({ before: ['w1', 'w4'], after: [] });
    assert.equal(await value('seat_cluster_ring_members'), 0);
  });

  it('counts the running shows this worker owns, until untracked', async () => {
    const host = { activeShowIds: ['a', 'b', 'c', 'd'] };
    const placement = { selfId: 'w1', owner: (id: string) => (id === 'd' ? 'w2' : 'w1') };
    const untrack = trackOwnedShows(host, placement);
    assert.equal(await value('seat_cluster_owned_shows'), 3);
    untrack();
    assert.equal(await value('seat_cluster_owned_shows'), 0);
  });
});
