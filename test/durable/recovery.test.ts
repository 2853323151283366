import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { serializeState } from '../../src/actors/state-codec.ts';
import type { BookingView } from '../../src/actors/types.ts';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openDurableStorage } from '../../src/persistence/durable-storage.ts';
import type { Storage } from '../../src/persistence/index.ts';
import { MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import type { PostgresBookingStore } from '../../src/persistence/postgres-booking-store.ts';
import { checkAccounting } from '../support/core.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { durableTestEnv, eventually, showInput, testLogger, type DurableTestEnv } from './support.ts';
import type { BookingGranted } from '../../src/service/seat-service.ts';

const withoutToken = ({ bookingToken: _token, ...booking }: BookingGranted): BookingView => booking;

const skip = await needServices('postgres', 'nats');
const SECRET = 'recovery-test-secret-0123456789';

async function open(
  env: DurableTestEnv,
  over: Partial<Parameters<typeof createSeatNode>[0]> = {},
  edit?: (s: Storage) => void,
): Promise<SeatNode> {
  const storage = await openDurableStorage(env.config, testLogger, env.options);
  edit?.(storage);
  return createSeatNode({ holdTokenSecret: SECRET, snapshotEveryEvents: 50, snapshotEveryMs: 600_000, ...over }, storage, testLogger);
}

/** A mix of every kind of change: holds, releases, confirms, cancels, extensions, blocks, a layout change. */
async function traffic(node: SeatNode, showId: string, rounds: number, block?: string): Promise<void> {
  const s = node.service;
  for (let i = 0; i < rounds; i++) {
    const h = await s.hold(showId, { count: 1 + (i % 3) }, { idempotencyKey: `h${i}` });
    if (i % 4 === 0) await s.release(showId, h.holdId, h.holdToken);
    else if (i % 4 === 1) await s.extendHold(showId, h.holdId, h.holdToken, 900, undefined);
    else {
      const b = await s.confirm(showId, h.holdId, h.holdToken, { paymentRef: `pay-${i}` }, { idempotencyKey: `c${i}` });
      if (i % 8 === 3) await s.cancelBookings(showId, [b.bookingId]);
    }
    if (i === Math.floor(rounds / 2)) await s.changeShow(showId, { title: 'Dune (70mm)' });
  }
  if (block) await s.blockSeats(showId, [block]);
}

describe('recovery on JetStream + Postgres', { skip }, () => {
  it('rebuilds from the newest snapshot and the tail exactly as from the whole log', async () => {
    const env = await durableTestEnv('recover');
    const showId = uniqueName('show');
    // Compared with a replay of the whole log, so the log is not compacted below the snapshots.
    const node = await open({ ...env, options: { ...env.options, purgeBelowSnapshots: false } });
    try {
      await node.service.createShow(showInput(showId, 20, 25));
      await traffic(node, showId, 120, 'T-25');
      const live = await node.host.read(showId, serializeState);
      await node.host.snapshot(showId);
      await traffic(node, showId, 15, 'T-24'); // a tail after the newest snapshot
      const liveAfter = await node.host.read(showId, serializeState);
      assert.notDeepEqual(live, liveAfter);

      const snap = await node.storage.snapshots.load(showId);
      assert.ok(snap && snap.logSeq > 0 && snap.logSeq < liveAfter.logSeq, 'a snapshot behind the log exists');
      const fromSnapshot = await new ActorHost({ log: node.storage.log, snapshots: node.storage.snapshots, logger: testLogger }).load(
        showId,
      );
      const fromLog = await new ActorHost({ log: node.storage.log, snapshots: new MemorySnapshotStore(), logger: testLogger }).load(showId);
      assert.ok(fromSnapshot.state && fromLog.state);
      assert.ok(fromSnapshot.replayed < fromLog.replayed, 'the snapshot saved replaying');
      checkAccounting(fromSnapshot.state);
      assert.deepEqual(serializeState(fromSnapshot.state), serializeState(fromLog.state));
      assert.deepEqual(serializeState(fromSnapshot.state), liveAfter);
    } finally {
      await node.close();
      await env.cleanup();
    }
  });

  it('answers a confirm only after its row is committed, and repairs a row whose commit failed before answering again', async () => {
    const env = await durableTestEnv('repair');
    const showId = uniqueName('show');
    let failNext = 0;
    const node = await open(env, {}, (storage) => {
      const real = storage.bookings!;
      storage.bookings = {
        upsert: async (views: BookingView[]) => {
          if (failNext > 0) {
            failNext--;
            throw new Error('postgres went away');
          }
          return real.upsert(views);
        },
        get: (show, id) => real.get(show, id),
        list: (show, query) => real.list(show, query),
        close: () => real.close(),
      };
    });
    const store = node.storage.bookings!;
    try {
      await node.service.createShow(showInput(showId));
      const h1 = await node.service.hold(showId, { seats: ['A-1', 'A-2'] });
      const b1 = await node.service.confirm(showId, h1.holdId, h1.holdToken, { paymentRef: 'pay-1' });
      // Resolved means committed: the row is readable at once, from any connection.
      // The row is the booking as confirmed, less the customer's token (derived, never stored).
      assert.deepEqual(await store.get(showId, b1.bookingId), withoutToken(b1));

      const h2 = await node.service.hold(showId, { seats: ['A-3'] });
      failNext = 1_000; // Postgres stays away until the checks below are done
      await assert.rejects(node.service.confirm(showId, h2.holdId, h2.holdToken, { paymentRef: 'pay-2' }, { idempotencyKey: 'k2' }), {
        code: 'UNAVAILABLE',
      });
      // The batch is in the log (the append succeeded) but has no row yet.
      // (Read with a plain host: the node's own host would repair the row while loading.)
      const logged = await new ActorHost({ log: node.storage.log, snapshots: node.storage.snapshots, logger: testLogger }).load(showId);
      const booked = [...(logged.state?.bookings.values() ?? [])].find((b) => b.holdId === h2.holdId);
      assert.ok(booked, 'the confirm reached the log');
      assert.equal(await (store as PostgresBookingStore).get(showId, booked.bookingId), null);
      // While the row is owed, a retry is answered UNAVAILABLE again, never "ok".
      await assert.rejects(node.service.confirm(showId, h2.holdId, h2.holdToken, { paymentRef: 'pay-2' }, { idempotencyKey: 'k2' }), {
        code: 'UNAVAILABLE',
      });

      // Postgres is back: the owed row is written in the background, then the retry gets the booking.
      failNext = 0;
      const retried = await eventually(() =>
        node.service.confirm(showId, h2.holdId, h2.holdToken, { paymentRef: 'pay-2' }, { idempotencyKey: 'k2' }).catch(() => undefined),
      );
      assert.equal(retried.bookingId, booked.bookingId);
      assert.deepEqual(await store.get(showId, retried.bookingId), withoutToken(retried));

      // A cancel whose commit fails is repaired the same way.
      await node.host.snapshot(showId);
      failNext = 1_000;
      await assert.rejects(node.service.cancelBookings(showId, [b1.bookingId]), { code: 'UNAVAILABLE' });
      assert.equal((await store.get(showId, b1.bookingId))?.status, 'confirmed');
      failNext = 0;
      const [again] = await eventually(() => node.service.cancelBookings(showId, [b1.bookingId]).catch(() => undefined));
      assert.equal(again.status, 'cancelled');
      assert.deepEqual(await store.get(showId, b1.bookingId), again);
    } finally {
      await node.close();
      await env.cleanup();
    }
  });

  it('passivates idle shows (snapshot, then out of memory) and reactivates them on demand', async () => {
    const env = await durableTestEnv('passivate');
    const showId = uniqueName('show');
    const node = await open(env, { passivateAfterMs: 200 });
    try {
      await node.service.createShow(showInput(showId));
      await traffic(node, showId, 10);
      const before = await node.host.read(showId, serializeState);
      await eventually(() => !node.host.activeShowIds.includes(showId), 10_000, 'the show to be passivated');
      const snap = await node.storage.snapshots.load(showId);
      assert.equal(snap?.logSeq, await node.storage.log.lastSeq(showId), 'the snapshot is at the end of the log');
      assert.deepEqual(await node.host.read(showId, serializeState), before);
      await node.service.hold(showId, { count: 2 });
    } finally {
      await node.close();
      await env.cleanup();
    }
  });

  it('snapshots every show at the end of the log on close (the SIGTERM path)', async () => {
    const env = await durableTestEnv('close');
    const shows = [uniqueName('a'), uniqueName('b')];
    const node = await open(env, { snapshotEveryEvents: 10_000 });
    try {
      for (const showId of shows) {
        await node.service.createShow(showInput(showId));
        await traffic(node, showId, 7);
      }
    } finally {
      await node.close();
    }
    const again = await open(env);
    try {
      for (const showId of shows) {
        const snap = await again.storage.snapshots.load(showId);
        assert.equal(snap?.logSeq, await again.storage.log.lastSeq(showId));
        const { replayed } = await again.host.load(showId);
        assert.equal(replayed, 0, 'nothing to replay after a clean shutdown');
      }
    } finally {
      await again.close();
      await env.cleanup();
    }
  });
});
