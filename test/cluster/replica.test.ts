import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_LIMITS, DEFAULT_OFFERS } from '../../src/actors/defaults.ts';
import { serializeState } from '../../src/actors/state-codec.ts';
import type { ShowCommand } from '../../src/actors/types.ts';
import { expiryKeys } from '../../src/cluster/expiry-index.ts';
import { ErrorCode } from '../../src/errors.ts';
import { checkAccounting } from '../support/core.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { durableTestEnv, eventually, showInput, type DurableTestEnv } from '../durable/support.ts';
import { deleteRedisKeys, showPlacedOn, startTestWorker, type TestWorker } from './replica-support.ts';

const skip = await needServices('postgres', 'nats', 'redis');

const create = (showId: string): ShowCommand => ({
  type: 'createShow',
  def: { ...showInput(showId, 4, 25), limits: { ...DEFAULT_LIMITS }, offers: { ...DEFAULT_OFFERS } },
});

/** Holds, confirms and releases on a show, many in flight at once (so batches group several). */
async function burst(w: TestWorker, showId: string, n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const seat = `${'ABCD'[i % 4]}-${1 + Math.floor(i / 4)}`;
      const holdId = `h-${i}`;
      await w.node.host.execute(showId, { type: 'hold', holdId, seats: [seat], idem: `k-${i}` });
      if (i % 3 === 0) await w.node.host.execute(showId, { type: 'confirm', holdId, bookingId: `b-${i}` });
      else if (i % 3 === 1) await w.node.host.execute(showId, { type: 'release', holdId });
    }),
  );
}

describe('warm replicas, takeover and handover (in process)', { skip }, () => {
  let env: DurableTestEnv;
  const prefix = uniqueName('tk');
  const workers: TestWorker[] = [];
  before(async () => {
    env = await durableTestEnv('repl');
  });
  after(async () => {
    for (const w of workers) await w.close().catch(() => undefined);
    await env?.cleanup();
    await deleteRedisKeys(prefix);
  });

  it('the replica copy equals the owner after a burst; a takeover starts from it and fences the old owner', async () => {
    const members = ['a', 'b'];
    const [a, b] = [await startTestWorker(env, 'a', members, prefix), await startTestWorker(env, 'b', members, prefix)];
    workers.push(a, b);
    const showId = showPlacedOn(members, 'a', 'b', uniqueName('warm'));
    await a.node.host.execute(showId, create(showId));
    await burst(a, showId, 60);

    const lastSeq = await a.node.storage.log.lastSeq(showId);
    await eventually(() => b.takeover.follower?.peek(showId, (c) => c.seq === lastSeq), 10_000, 'the replica to reach the last seq');
    const owner = await a.node.host.read(showId, (s) => serializeState(s));
    const copy = b.takeover.follower?.peek(showId, (c) => serializeState(c.state));
    assert.deepEqual(copy, owner);

    // The owner "dies" (nothing of it runs on; its actor stays in memory, stale) and b owns the show.
    b.placement.set(['b']);
    await eventually(() => b.node.host.isActive(showId), 10_000, 'b to take the show over');
    assert.equal(b.takeover.stats().follower?.taken, 1, 'activated from the warm copy');
    assert.equal(b.takeover.stats().takenOver, 1);
    assert.deepEqual(await b.node.host.read(showId, (s) => serializeState(s)), owner);
    const held = await b.node.host.execute(showId, { type: 'hold', holdId: 'after-takeover', seats: ['D-25'] });
    assert.equal(held.type, 'hold');
    await b.node.host.read(showId, checkAccounting);

    // The old owner wakes up and tries to write: the log refuses it.
    await assert.rejects(
      a.node.host.execute(showId, { type: 'hold', holdId: 'stale', seats: ['D-24'] }),
      (err: { code?: string }) => err.code === ErrorCode.NOT_OWNER,
    );
    assert.equal(a.node.host.isActive(showId), false, 'the fenced actor stopped');
    await a.close();
    await b.close();
  });

  it('hands a show over when the ring gives it to another node, and holds keep their seats', async () => {
    const members = ['c', 'd'];
    const [c, d] = [await startTestWorker(env, 'c', members, prefix), await startTestWorker(env, 'd', members, prefix)];
    workers.push(c, d);
    const showId = showPlacedOn(members, 'c', 'd', uniqueName('move'));
    await c.node.host.execute(showId, create(showId));
    await c.node.host.execute(showId, { type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2'] });
    // d owns the show from now on, in both views.
    c.placement.set(['d', 'e']);
    d.placement.set(['d', 'e']);
    await eventually(() => !c.node.host.isActive(showId), 10_000, 'c to hand the show over');
    assert.equal(c.takeover.stats().handedOver, 1);
    await assert.rejects(
      d.node.host.execute(showId, { type: 'hold', holdId: 'h2', seats: ['A-2'] }),
      (err: { code?: string }) => err.code === ErrorCode.SEAT_UNAVAILABLE,
    );
    const confirmed = await d.node.host.execute(showId, { type: 'confirm', holdId: 'h1', bookingId: 'b1' });
    assert.equal(confirmed.type, 'confirm');
    await d.node.host.read(showId, checkAccounting);
    await c.close();
    await d.close();
  });

  it('a replica drops an idle copy, follows the show again on its next entry or when it becomes its replica again, and a takeover after that is correct', async () => {
    const members = ['p', 'q'];
    const p = await startTestWorker(env, 'p', members, prefix);
    const q = await startTestWorker(env, 'q', members, prefix, { passivateAfterMs: 1_000 });
    workers.push(p, q);
    // Closed even on failure: a live worker's expiry sweep would take later tests' shows.
    try {
      const follower = q.takeover.follower!;
      const showId = showPlacedOn(members, 'p', 'q', uniqueName('idle'));
      await p.node.host.execute(showId, create(showId));
      await burst(p, showId, 12);
      const caughtUp = async () => {
        const lastSeq = await p.node.storage.log.lastSeq(showId);
        return follower.peek(showId, (c) => c.seq === lastSeq) === true;
      };
      // No copy held: neither ready nor loading (the replica keeps only the show's id).
      const dropped = () =>
        follower.followState(showId) === 'idle' &&
        follower.peek(showId, () => true) === undefined &&
        !follower.readyShowIds().includes(showId);
      await eventually(caughtUp, 10_000, 'the replica to follow the show');

      // No entries for longer than the idle time: the replica holds no copy of the show.
      await eventually(dropped, 10_000, 'the idle copy to be dropped');
      assert.ok(follower.stats().passivated >= 1);
      // A ring change that keeps this node the replica does not load the idle show again.
      await follower.reconcile();
      assert.ok(dropped(), 'still no copy after a ring change');

      // A new command on the owner: the replica follows the show again, up to date.
      await p.node.host.execute(showId, { type: 'hold', holdId: 'wake', seats: ['D-25'], idem: 'k-wake' });
      await eventually(caughtUp, 10_000, 'the replica to follow the show again');
      await eventually(dropped, 10_000, 'the copy to go idle again');

      // The ring makes another node the replica, then this one again: it follows the show at once.
      q.placement.set(['p']);
      await follower.reconcile();
      assert.equal(follower.followState(showId), null);
      q.placement.set(members);
      await eventually(caughtUp, 10_000, 'the new replica to follow the show');
      await eventually(dropped, 10_000, 'the copy to go idle once more');

      // The owner dies; q owns the show with no copy of it: like any node that never followed
      // it, it activates the show on demand from snapshot + log, to the same state.
      const owner = await p.node.host.read(showId, (st) => serializeState(st));
      const takenBefore = follower.stats().taken;
      q.placement.set(['q']);
      await q.takeover.settled();
      assert.deepEqual(await q.node.host.read(showId, (st) => serializeState(st)), owner);
      assert.equal(follower.stats().taken, takenBefore, 'no warm copy was there to take');
      const held = await q.node.host.execute(showId, { type: 'hold', holdId: 'after-idle-takeover', seats: ['D-24'] });
      assert.equal(held.type, 'hold');
      await q.node.host.read(showId, checkAccounting);
    } finally {
      await p.close();
      await q.close();
    }
  });

  it('a hold whose owner died expires on the new owner through the expiry index (no warm copy)', async () => {
    const members = ['f', 'g'];
    const f = await startTestWorker(env, 'f', members, prefix);
    const g = await startTestWorker(env, 'g', members, prefix, { follow: false, expirySweepMs: 100 });
    workers.push(f, g);
    const showId = showPlacedOn(members, 'f', 'g', uniqueName('exp'));
    await f.node.host.execute(showId, create(showId));
    const ttlSeconds = 2;
    const reply = await f.node.host.execute(showId, { type: 'hold', holdId: 'short', seats: ['B-3'], ttlSeconds });
    assert.equal(reply.type, 'hold');
    const deadline = Date.parse(reply.type === 'hold' ? reply.hold.expiresAt : '');
    const keys = expiryKeys(prefix);
    await eventually(async () => (await g.redis.zscore(keys.deadlines, showId)) !== null, 5_000, 'the index entry');
    // f dies: its actors and timers are gone; g alone is left.
    await f.close();
    g.placement.set(['g']);
    assert.equal(g.node.host.isActive(showId), false);
    const gone = await eventually(
      async () => (g.node.host.isActive(showId) ? g.node.host.read(showId, (s) => (s.holds.has('short') ? false : Date.now())) : false),
      ttlSeconds * 1000 + 5_000,
      'the hold to expire on g',
    );
    assert.ok(gone >= deadline, 'not before its deadline');
    assert.ok(gone - deadline < 1_500, `expired ${gone - deadline} ms after its deadline`);
    await eventually(async () => (await g.redis.zscore(keys.deadlines, showId)) === null, 5_000, 'the index entry to go');
    await g.close();
  });
});
