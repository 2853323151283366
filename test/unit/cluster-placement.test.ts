import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessCluster, IN_PROCESS_MEMBER_TTL_MS } from '../../src/cluster/in-process/cluster.ts';
import { InProcessMembership } from '../../src/cluster/in-process/membership.ts';
import { ManualClock } from '../../src/cluster/in-process/manual-clock.ts';
import { Ring, type Member } from '../../src/cluster/ring.ts';
import { until } from '../../testkit/wait.ts';
import { showIds } from './cluster-support.ts';

const ids = showIds(3000);
const m = (nodeId: string, weight = 1): Member => ({ nodeId, weight });

function counts(ring: Ring): Map<string, number> {
  const c = new Map<string, number>();
  for (const id of ids) c.set(ring.owner(id)!, (c.get(ring.owner(id)!) ?? 0) + 1);
  return c;
}

describe('ring placement', () => {
  test('the same members in any order give the same owner and replica for every show', () => {
    const a = new Ring([m('w1'), m('w2'), m('w3')]);
    const b = new Ring([m('w3'), m('w1'), m('w2')]);
    for (const id of ids) {
      assert.equal(a.owner(id), b.owner(id));
      assert.equal(a.replica(id), b.replica(id));
      assert.notEqual(a.replica(id), a.owner(id));
    }
  });

  test('equal weights share the shows about evenly; a weight-2 member takes about twice the share', () => {
    const even = counts(new Ring([m('w1'), m('w2'), m('w3')]));
    for (const n of even.values()) assert.ok(Math.abs(n - 1000) < 200, `share ${n} of 3000 is far from even`);
    const weighted = counts(new Ring([m('w1'), m('w2', 2), m('w3')]));
    const ratio = weighted.get('w2')! / ((weighted.get('w1')! + weighted.get('w3')!) / 2);
    assert.ok(ratio > 1.5 && ratio < 2.5, `weight 2 got ${ratio.toFixed(2)}× a weight-1 share`);
  });

  test("a join moves shows only to the new member; a leave moves only the leaver's shows", () => {
    const three = new Ring([m('w1'), m('w2'), m('w3')]);
    const four = new Ring([m('w1'), m('w2'), m('w3'), m('w4')]);
    let moved = 0;
    for (const id of ids)
      if (three.owner(id) !== four.owner(id)) {
        moved++;
        assert.equal(four.owner(id), 'w4', `${id} moved between old members`);
      }
    assert.ok(moved > 500 && moved < 1000, `${moved} of 3000 moved to a fourth member`);
    const withoutW2 = new Ring([m('w1'), m('w3')]);
    for (const id of ids)
      if (three.owner(id) !== 'w2') assert.equal(withoutW2.owner(id), three.owner(id), `${id} moved though its owner stayed`);
  });

  test('an empty ring owns nothing', () => {
    const empty = new Ring([]);
    assert.equal(empty.owner('s1'), null);
    assert.deepEqual(empty.preference('s1', 3), []);
  });
});

describe('membership leases (in-process store)', () => {
  test('a member not beating for the TTL is dropped; weights travel with the beat', async () => {
    const clock = new ManualClock();
    const store = new InProcessMembership(clock.now).client('t');
    await store.beat(m('w1'), 800);
    assert.deepEqual(await store.beat(m('w2', 3), 800), [m('w1'), m('w2', 3)]);
    clock.advance(799);
    assert.deepEqual(await store.beat(m('w2', 3), 800), [m('w1'), m('w2', 3)]);
    clock.advance(1);
    assert.deepEqual(await store.beat(null, 800), [m('w2', 3)]);
  });

  test('a node id is claimed by one token at a time until it expires or is released', async () => {
    const clock = new ManualClock();
    const membership = new InProcessMembership(clock.now);
    const a = membership.client('a');
    const b = membership.client('b');
    assert.equal(await a.tryClaim('w1', 'ta', 800), null);
    assert.equal(await b.tryClaim('w1', 'tb', 800), 800);
    assert.equal(await b.refreshClaim('w1', 'tb', 800), false);
    clock.advance(800);
    assert.equal(await b.tryClaim('w1', 'tb', 800), null);
    assert.equal(await a.refreshClaim('w1', 'ta', 800), false);
    await a.releaseClaim('w1', 'ta');
    assert.equal(await b.refreshClaim('w1', 'tb', 800), true);
    await b.releaseClaim('w1', 'tb');
    assert.equal(await a.tryClaim('w1', 'ta', 800), null);
  });
});

describe('placement over an in-process cluster', () => {
  const clusters: InProcessCluster[] = [];
  after(async () => {
    for (const c of clusters) await c.close();
  });

  test('every process agrees on the ring after a join, a graceful leave and a crash; a crash leaves only after the TTL', async () => {
    const c = await InProcessCluster.start({ workers: ['w1', 'w2'] });
    clusters.push(c);
    const g = await c.addGateway();
    const views = () => [...[...c.workers.values()].map((w) => w.placement.members()), g.placement.members()];
    const agree = (members: string[]) => views().every((v) => v.join() === members.join());
    assert.deepEqual(g.placement.members(), ['w1', 'w2']);
    await c.addWorker('w3', 2);
    // The join announcement makes everyone re-read within a hop, without a heartbeat passing.
    await until(() => agree(['w1', 'w2', 'w3']), 5_000, 'every view to include w3');
    const ring = new Ring([m('w1'), m('w2'), m('w3', 2)]);
    for (const id of ids.slice(0, 200)) assert.equal(g.placement.owner(id), ring.owner(id));

    await c.workers.get('w1')!.close();
    await until(() => agree(['w2', 'w3']), 5_000, 'every view to drop w1 after its announced leave');

    await c.workers.get('w2')!.kill();
    await c.tick(IN_PROCESS_MEMBER_TTL_MS / 2);
    assert.deepEqual(g.placement.members(), ['w2', 'w3'], 'a crashed member stays until its lease runs out');
    await c.expireDead();
    for (const v of views()) assert.deepEqual(v, ['w3']);
  });

  test('a second process with a live node id is refused', async () => {
    const c = await InProcessCluster.start({ workers: ['w1'] });
    clusters.push(c);
    const claim = c.membership.client('intruder');
    assert.notEqual(await claim.tryClaim('w1', 'other-token', IN_PROCESS_MEMBER_TTL_MS), null);
    await assert.rejects(c.addWorker('w1'), { name: 'NodeIdInUseError' });
  });
});
