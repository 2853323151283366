import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Ring } from '../../src/cluster/ring.ts';
import { startCluster, type TestCluster } from '../../testkit/cluster.ts';
import { needServices } from '../../testkit/services.ts';

const SHOWS = Array.from({ length: 1_000 }, (_, i) => `show-${i}`);

test('the ring is the same whatever order the members are listed in', () => {
  const a = new Ring([
    { nodeId: 'w-b', weight: 1 },
    { nodeId: 'w-a', weight: 1 },
    { nodeId: 'w-c', weight: 1 },
  ]);
  const b = new Ring([
    { nodeId: 'w-c', weight: 1 },
    { nodeId: 'w-a', weight: 1 },
    { nodeId: 'w-b', weight: 1 },
  ]);
  for (const s of SHOWS) assert.equal(a.owner(s), b.owner(s));
  for (const s of SHOWS.slice(0, 50)) {
    assert.notEqual(a.replica(s), a.owner(s));
    assert.equal(a.replica(s), b.replica(s));
  }
});

test('a weight-2 member gets about twice the shows', () => {
  const r = new Ring([
    { nodeId: 'big', weight: 2 },
    { nodeId: 'small', weight: 1 },
  ]);
  const big = SHOWS.filter((s) => r.owner(s) === 'big').length;
  assert.ok(big > 600 && big < 730, `big owns ${big}`);
});

describe('placement across processes', { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ workers: 3, gateways: 2 });
  });
  after(async () => {
    await cluster?.stop();
  });

  test('1,000 shows spread over 3 workers within ±25 % of even', async () => {
    const members = await cluster.members();
    assert.deepEqual(members, cluster.workers.map((w) => w.nodeId).sort());
    const ring = new Ring(members.map((nodeId) => ({ nodeId, weight: 1 })));
    const counts = new Map<string, number>(members.map((m) => [m, 0]));
    for (const s of SHOWS) counts.set(ring.owner(s)!, counts.get(ring.owner(s)!)! + 1);
    const even = SHOWS.length / members.length;
    for (const [node, n] of counts) assert.ok(Math.abs(n - even) <= even * 0.25, `${node} owns ${n} of ${SHOWS.length}`);
  });

  test('every gateway and every worker routes each show to the same owner', async () => {
    const members = await cluster.members();
    const ring = new Ring(members.map((nodeId) => ({ nodeId, weight: 1 })));
    const processes = [...cluster.gateways, ...cluster.workers];
    const sample = SHOWS.filter((_, i) => i % 5 === 0);
    for (const p of processes) {
      const owners = await Promise.all(sample.map((s) => cluster.ownerOf(s, p)));
      for (let i = 0; i < sample.length; i++) assert.equal(owners[i], ring.owner(sample[i]), `${p.nodeId} on ${sample[i]}`);
    }
    // The whole set on both gateways.
    const [g0, g1] = await Promise.all(cluster.gateways.map((g) => Promise.all(SHOWS.map((s) => cluster.ownerOf(s, g)))));
    assert.deepEqual(g0, g1);
  });
});
