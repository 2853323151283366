import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessCluster } from '../../src/cluster/in-process/cluster.ts';
import { MAX_ROUTE_ATTEMPTS } from '../../src/cluster/remote-seat-service.ts';
import { ErrorCode } from '../../src/errors.ts';
import { clusterSubjects } from '../../src/subjects.ts';
import { showInput } from '../../testkit/shows.ts';
import { until } from '../../testkit/wait.ts';
import { retriesFor, showIds } from './cluster-support.ts';

const heldSeats = (seats: Array<{ status: string }>) => seats.filter((s) => s.status !== 'available').length;

describe('routing: retries and re-routing', () => {
  const clusters: InProcessCluster[] = [];
  after(async () => {
    for (const c of clusters) await c.close();
  });

  test('an owner cut off retries on timeout until it is back, and the op applies once', async () => {
    const c = await InProcessCluster.start({ workers: ['w1'], attemptTimeoutMs: 100, requestTimeoutMs: 10_000 });
    clusters.push(c);
    const g = await c.addGateway();
    await g.service.createShow(showInput('s1', 2, 10));
    const timeoutsBefore = await retriesFor(ErrorCode.DEADLINE_EXCEEDED);
    c.network.partition('w1');
    const hold = g.service.hold('s1', { count: 2 });
    // Wait for two timed-out attempts before healing, so the retry is what succeeds.
    await until(async () => (await retriesFor(ErrorCode.DEADLINE_EXCEEDED)) >= timeoutsBefore + 2, 5_000, 'two timed-out attempts');
    c.network.heal('w1');
    const granted = await hold;
    assert.equal(granted.seats.length, 2);
    assert.equal(heldSeats((await g.service.getShow('s1')).seats), 2);
  });

  test('a lost result is retried under the same key: the owner answers from its record, nothing applies twice', async () => {
    const c = await InProcessCluster.start({ workers: ['w1'], attemptTimeoutMs: 150, requestTimeoutMs: 10_000 });
    clusters.push(c);
    const g = await c.addGateway();
    await g.service.createShow(showInput('s1', 2, 10));
    const timeoutsBefore = await retriesFor(ErrorCode.DEADLINE_EXCEEDED);
    // The acknowledgement and the result of the first attempt are lost on the way back.
    c.network.dropNext('g1', 2);
    const granted = await g.service.hold('s1', { count: 3 });
    assert.ok((await retriesFor(ErrorCode.DEADLINE_EXCEEDED)) > timeoutsBefore, 'the first attempt timed out');
    assert.equal(granted.seats.length, 3);
    assert.equal(heldSeats((await g.service.getShow('s1')).seats), 3, 'the retried hold applied once');
  });

  test('a slow owner: every attempt times out, the op fails DEADLINE_EXCEEDED, and its retries applied it once', async () => {
    const c = await InProcessCluster.start({ workers: ['w1'], attemptTimeoutMs: 100, requestTimeoutMs: 800 });
    clusters.push(c);
    const g = await c.addGateway();
    await g.service.createShow(showInput('s1', 2, 10));
    const cmd = clusterSubjects(c.prefix).commands('w1');
    let requests = 0;
    c.network.tap((msg) => msg.subject === cmd && msg.request && requests++);
    c.network.delay('w1', 300);
    await assert.rejects(g.service.hold('s1', { count: 2 }), { code: ErrorCode.DEADLINE_EXCEEDED });
    assert.ok(requests > 1, 'the op was retried');
    const w1 = c.workers.get('w1')!;
    await until(() => w1.endpoint.counts.messages >= requests, 5_000, 'every delayed attempt to reach the owner');
    c.network.heal('w1');
    assert.equal(heldSeats((await g.service.getShow('s1')).seats), 2, 'the attempts shared one key: one hold');
  });

  test('with no owner alive an op backs off between attempts and fails UNAVAILABLE within its budget', async () => {
    const c = await InProcessCluster.start({ workers: [], requestTimeoutMs: 400 });
    clusters.push(c);
    const g = await c.addGateway();
    const before = await retriesFor(ErrorCode.UNAVAILABLE);
    await assert.rejects(g.service.getShow('s1'), { code: ErrorCode.UNAVAILABLE });
    const retries = (await retriesFor(ErrorCode.UNAVAILABLE)) - before;
    // Backoff doubles from 20 ms: 400 ms holds a handful of attempts, never a spin.
    assert.ok(retries >= 1 && retries < MAX_ROUTE_ATTEMPTS / 2, `${retries} retries in 400 ms`);
  });

  test('an owner that crashed answers nobody; ops re-route to the new owner once its lease is gone', async () => {
    const c = await InProcessCluster.start({ workers: ['w1', 'w2', 'w3'], requestTimeoutMs: 10_000 });
    clusters.push(c);
    const g = await c.addGateway();
    const ids = showIds(12);
    for (const id of ids) await g.service.createShow(showInput(id, 2, 10));
    const victim = g.placement.owner(ids[0])!;
    const victims = ids.filter((id) => g.placement.owner(id) === victim);
    await c.workers.get(victim)!.kill();
    const unreachableBefore = await retriesFor(ErrorCode.UNAVAILABLE);
    const holds = Promise.all(victims.map((id) => g.service.hold(id, { count: 1 })));
    await until(async () => (await retriesFor(ErrorCode.UNAVAILABLE)) > unreachableBefore, 5_000, 'an attempt to find no responders');
    await c.expireDead();
    const granted = await holds;
    assert.equal(granted.length, victims.length);
    for (const id of victims) assert.notEqual(g.placement.owner(id), victim);
  });

  test('NOT_OWNER from the old owner after a join makes a stale gateway re-read the ring and reach the new owner', async () => {
    const c = await InProcessCluster.start({ workers: ['w1', 'w2'], requestTimeoutMs: 10_000 });
    clusters.push(c);
    const g = await c.addGateway();
    const ids = showIds(60);
    for (const id of ids) await g.service.createShow(showInput(id, 2, 10));
    const first = await Promise.all(ids.map((id) => g.service.hold(id, { seats: ['A-1'] })));
    // The gateway misses the join announcement (and beats no more): its ring is stale.
    c.network.dropNext('g1', 1);
    await c.addWorker('w3');
    await Promise.all([...c.workers.values()].map((w) => w.placement.refresh()));
    assert.deepEqual(g.placement.members(), ['w1', 'w2']);
    const moved = ids.filter((id) => c.workers.get('w1')!.placement.owner(id) === 'w3');
    assert.ok(moved.length > 0, 'some shows moved to w3');
    const notOwnerBefore = await retriesFor(ErrorCode.NOT_OWNER);
    const second = await Promise.all(moved.map((id) => g.service.hold(id, { seats: ['A-2'] })));
    assert.ok((await retriesFor(ErrorCode.NOT_OWNER)) > notOwnerBefore, 'the old owner answered NOT_OWNER');
    assert.deepEqual(g.placement.members(), ['w1', 'w2', 'w3']);
    assert.equal(second.length, moved.length);
    // The new owner loaded each show from the log: the hold made on the old owner is there.
    for (const id of moved) {
      const seats = (await g.service.getShow(id)).seats;
      assert.equal(seats.find((s) => s.id === 'A-1')!.status, 'held', `${id} lost its first hold`);
      assert.equal(seats.find((s) => s.id === 'A-2')!.status, 'held');
    }
    assert.equal(first.length, ids.length);
  });
});
