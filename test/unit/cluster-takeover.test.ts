import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessCluster, IN_PROCESS_MEMBER_TTL_MS } from '../../src/cluster/in-process/cluster.ts';
import { ErrorCode } from '../../src/errors.ts';
import { showInput } from '../../testkit/shows.ts';
import { until } from '../../testkit/wait.ts';
import { showIds } from './cluster-support.ts';

describe('takeover and handover', () => {
  const clusters: InProcessCluster[] = [];
  after(async () => {
    for (const c of clusters) await c.close();
  });

  async function cluster(workers: string[]) {
    const c = await InProcessCluster.start({ workers, requestTimeoutMs: 10_000, attemptTimeoutMs: 300 });
    clusters.push(c);
    const g = await c.addGateway();
    const ids = showIds(24);
    for (const id of ids) await g.service.createShow(showInput(id, 2, 10));
    // One booking per show, written by its first owner.
    const bookings = new Map<string, { bookingId: string; seats: string[] }>();
    for (const id of ids) {
      const h = await g.service.hold(id, { seats: ['A-1', 'A-2'] });
      const b = await g.service.confirm(id, h.holdId, h.holdToken, {});
      bookings.set(id, { bookingId: b.bookingId, seats: b.seats });
    }
    return { c, g, ids, bookings };
  }

  test("a crashed worker's shows are taken over with every booking, and its seats cannot be sold again", async () => {
    const { c, g, ids, bookings } = await cluster(['w1', 'w2', 'w3']);
    const dead = g.placement.owner(ids[0])!;
    const orphans = ids.filter((id) => g.placement.owner(id) === dead);
    await c.workers.get(dead)!.kill();
    await c.expireDead();
    for (const id of orphans) {
      const owner = g.placement.owner(id)!;
      assert.notEqual(owner, dead);
      const b = await g.service.getBooking(id, bookings.get(id)!.bookingId);
      assert.equal(b.status, 'confirmed');
      assert.deepEqual(b.seats, bookings.get(id)!.seats);
      await assert.rejects(g.service.hold(id, { seats: ['A-1'] }), { code: ErrorCode.SEAT_UNAVAILABLE });
      assert.ok(c.workers.get(owner)!.node.host.isActive(id), `${owner} serves ${id} now`);
    }
  });

  test('a graceful leave hands every show over while clients keep holding, none of them sees an error', async () => {
    const { c, g, ids } = await cluster(['w1', 'w2', 'w3']);
    const leaver = c.workers.get('w2')!;
    const its = ids.filter((id) => g.placement.owner(id) === 'w2');
    assert.ok(its.length > 0);
    const active = leaver.node.host.activeShowIds.length;
    assert.ok(active >= its.length);
    // Holds in flight on the leaver's shows while it leaves: the router retries NOT_OWNER and no responders.
    let stop = false;
    const errors: unknown[] = [];
    let granted = 0;
    // Each client holds and releases until told to stop, so seats never run out and the
    // clients are still going when the leave happens, however fast they are.
    const clients = its.map(async (id) => {
      while (!stop) {
        try {
          const h = await g.service.hold(id, { count: 1 });
          granted++;
          await g.service.release(id, h.holdId, h.holdToken);
        } catch (err) {
          errors.push(err);
        }
      }
    });
    await until(() => granted >= its.length, 5_000, 'holds to be flowing');
    const grantedAtLeave = granted;
    await leaver.close();
    assert.equal(leaver.ownership.stats().handedOver, active, 'every show in memory was handed over');
    await until(() => g.placement.members().join() === 'w1,w3', 5_000, 'the gateway to drop w2');
    const grantedAfterDrop = granted;
    await until(() => granted >= grantedAfterDrop + its.length, 5_000, 'holds on the new owners');
    stop = true;
    await Promise.all(clients);
    assert.deepEqual(errors, []);
    assert.ok(granted > grantedAtLeave, 'holds went on across the leave');
    for (const id of its) {
      const owner = g.placement.owner(id)!;
      assert.ok(owner === 'w1' || owner === 'w3');
      const seats = (await g.service.getShow(id)).seats;
      assert.equal(seats.filter((s) => s.status === 'booked').length, 2, `${id} kept its booking`);
    }
  });

  test('a worker cut off from membership stops serving after its lease, and drops its stale shows when it is back', async () => {
    const { c, g, ids } = await cluster(['w1', 'w2']);
    const w1 = c.workers.get('w1')!;
    const its = ids.filter((id) => g.placement.owner(id) === 'w1');
    assert.ok(its.length > 0);
    const changes: Array<{ selfLapsed?: boolean }> = [];
    w1.placement.onChange((ch) => changes.push(ch));
    c.membership.cut('w1');
    await c.tick(IN_PROCESS_MEMBER_TTL_MS / 2);
    assert.equal(w1.placement.selfAlive, true, 'still within its lease');
    await c.expireDead();
    assert.equal(w1.placement.selfAlive, false, 'its lease lapsed: it serves nothing');
    assert.deepEqual(g.placement.members(), ['w2']);
    // w2 serves w1's shows now, and writes to them.
    for (const id of its) await g.service.hold(id, { seats: ['B-1'] });
    c.membership.heal('w1');
    await c.tick();
    await until(() => g.placement.members().join() === 'w1,w2', 5_000, 'w1 back in the ring');
    assert.ok(
      changes.some((ch) => ch.selfLapsed),
      'w1 learned its lease had lapsed',
    );
    // Back as owner, w1 reloads from the log: the holds w2 made meanwhile are there.
    for (const id of its) {
      const seats = (await g.service.getShow(id)).seats;
      assert.equal(seats.find((s) => s.id === 'B-1')!.status, 'held', `${id} lost a hold made while w1 was out`);
    }
  });
});
