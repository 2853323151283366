import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessCluster } from '../../src/cluster/in-process/cluster.ts';
import { ErrorCode, SeatError } from '../../src/errors.ts';
import { logger } from '../../src/logger.ts';
import { createSeatNode } from '../../src/node.ts';
import { MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import type { BookingView } from '../../src/actors/types.ts';
import { showInput } from '../../testkit/shows.ts';
import { rng, showIds } from './cluster-support.ts';

/** Answers a client may get while the cluster churns; anything else is a bug. */
const EXPECTED = new Set<string>([
  ErrorCode.SEAT_UNAVAILABLE,
  ErrorCode.HOLD_NOT_FOUND,
  ErrorCode.HOLD_EXPIRED,
  ErrorCode.HOLD_ALREADY_CONFIRMED,
  ErrorCode.UNAVAILABLE,
  ErrorCode.DEADLINE_EXCEEDED,
]);

/** CLUSTER_INVARIANT_SEEDS=n runs seeds 1…n (a longer search); three by default. */
const SEEDS = Array.from({ length: Number(process.env.CLUSTER_INVARIANT_SEEDS ?? 3) }, (_, i) => i + 1);
const CLIENTS = 10;
const ROUNDS = 40;
const ROWS = 3;
const SEATS_PER_ROW = 10;

async function allBookings(list: (cursor?: string) => Promise<{ bookings: BookingView[]; nextCursor?: string }>): Promise<BookingView[]> {
  const out: BookingView[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    out.push(...page.bookings);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

describe('cluster invariant under random joins, leaves, kills and partitions', () => {
  const clusters: InProcessCluster[] = [];
  after(async () => {
    for (const c of clusters) await c.close();
  });

  for (const seed of SEEDS)
    test(`seed ${seed}: no seat sold twice, no acknowledged booking lost`, async () => {
      const random = rng(seed);
      const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
      const c = await InProcessCluster.start({ workers: ['w1', 'w2', 'w3'], requestTimeoutMs: 15_000, attemptTimeoutMs: 300 });
      clusters.push(c);
      const gateways = [await c.addGateway('g1'), await c.addGateway('g2')];
      const ids = showIds(6);
      for (const id of ids) await gateways[0].service.createShow(showInput(id, ROWS, SEATS_PER_ROW));
      const seatIds = (await gateways[0].service.getShow(ids[0])).seats.map((s) => s.id);

      let clientsDone = false;
      const acked: Array<{ showId: string; booking: BookingView }> = [];
      const unexpected: unknown[] = [];
      let done = 0;
      // Woken on every client answer: chaos paces itself by the clients' progress, not by time.
      let onAnswer: (() => void) | null = null;
      const answers = (n: number) =>
        new Promise<void>((resolve) => {
          const target = done + n;
          onAnswer = () => {
            if (done >= target || clientsDone) {
              onAnswer = null;
              resolve();
            }
          };
        });
      const attempt = async <T>(fn: () => Promise<T>): Promise<T | null> => {
        try {
          return await fn();
        } catch (err) {
          if (!(err instanceof SeatError) || !EXPECTED.has(err.code)) unexpected.push(err);
          return null;
        } finally {
          done++;
          onAnswer?.();
        }
      };
      const client = async (n: number) => {
        // Each client has its own generator: the interleaving stays random, the choices replayable.
        const r = rng(seed * 1000 + n);
        const choose = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
        for (let i = 0; i < ROUNDS; i++) {
          const g = choose(gateways);
          const showId = choose(ids);
          const seats = [...new Set([choose(seatIds), choose(seatIds)])];
          const hold = await attempt(() => g.service.hold(showId, { seats }));
          if (!hold) continue;
          if (r() < 0.7) {
            const key = `confirm-${seed}-${n}-${i}`;
            const booking = await attempt(() =>
              choose(gateways).service.confirm(showId, hold.holdId, hold.holdToken, {}, { idempotencyKey: key }),
            );
            if (booking) acked.push({ showId, booking });
          } else await attempt(() => choose(gateways).service.release(showId, hold.holdId, hold.holdToken));
        }
      };
      const running = Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n))).finally(() => {
        clientsDone = true;
        onAnswer?.();
      });

      // Chaos, paced by the clients' progress (a few answers between faults), until they finish.
      let next = 4;
      const log: string[] = [];
      while (!clientsDone) {
        await answers(10);
        if (clientsDone) break;
        const live = [...c.workers.keys()];
        // A lone worker is never taken away: a join comes first.
        const action = live.length <= 1 ? 'join' : pick(['join', 'leave', 'kill', 'partition', 'tick'] as const);
        if (action === 'join' && live.length < 5) {
          const id = `w${next++}`;
          log.push(`join ${id}`);
          await c.addWorker(id, pick([1, 2]));
        } else if (action === 'leave' && live.length > 1) {
          const id = pick(live);
          log.push(`leave ${id}`);
          await c.workers.get(id)!.close();
        } else if (action === 'kill' && live.length > 1) {
          const id = pick(live);
          log.push(`kill ${id}`);
          await c.workers.get(id)!.kill();
          await c.expireDead();
        } else if (action === 'partition' && live.length > 1) {
          const id = pick(live);
          log.push(`partition ${id}`);
          c.network.partition(id);
          c.membership.cut(id);
          await c.expireDead();
          c.network.heal(id);
          c.membership.heal(id);
          await c.tick();
        } else await c.tick();
      }
      await running;
      await c.expireDead();
      assert.deepEqual(unexpected, [], `unexpected errors (chaos: ${log.join(', ')})`);
      assert.ok(acked.length > 0, 'some bookings were confirmed');
      assert.ok(log.length >= 3, `the cluster changed under the clients (chaos: ${log.join(', ')})`);

      const g = gateways[0];
      // The state a fresh process rebuilds from the log alone, compared with what the owners answer.
      const verifier = createSeatNode(
        { holdTokenSecret: 'a-verifier-of-the-log-alone', snapshotEveryEvents: 1_000_000, snapshotEveryMs: 3_600_000 },
        { ...c.storage, snapshots: new MemorySnapshotStore(), close: async () => {} },
        logger,
      );
      try {
        for (const showId of ids) {
          const confirmed = await allBookings((cursor) =>
            g.service.listBookings(showId, { status: 'confirmed', ...(cursor ? { cursor } : {}) }),
          );
          const sold = confirmed.flatMap((b) => b.seats);
          assert.equal(new Set(sold).size, sold.length, `${showId}: a seat is in two confirmed bookings`);
          const view = await g.service.getShow(showId);
          const booked = view.seats.filter((s) => s.status === 'booked').map((s) => s.id);
          assert.deepEqual([...booked].sort(), [...sold].sort(), `${showId}: booked seats and confirmed bookings differ`);
          const replayed = (await verifier.service.getShow(showId)).seats.filter((s) => s.status === 'booked').map((s) => s.id);
          assert.deepEqual(replayed.sort(), [...booked].sort(), `${showId}: the log alone rebuilds other sales`);
          for (const { booking } of acked.filter((a) => a.showId === showId)) {
            const found = confirmed.find((b) => b.bookingId === booking.bookingId);
            assert.ok(found, `${showId}: acknowledged booking ${booking.bookingId} lost (chaos: ${log.join(', ')})`);
            assert.deepEqual(found.seats, booking.seats);
          }
        }
      } finally {
        await verifier.close();
      }
    });
});
