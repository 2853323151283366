import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SEAT_AVAILABLE } from '../../src/actors/types.ts';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openDurableStorage } from '../../src/persistence/durable-storage.ts';
import type { PostgresBookingStore } from '../../src/persistence/postgres-booking-store.ts';
import { checkAccounting } from '../support/core.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { durableTestEnv, eventually, testLogger, type DurableTestEnv } from './support.ts';
import { startWorker } from './worker-process.ts';

const skip = await needServices('postgres', 'nats');

async function restart(env: DurableTestEnv): Promise<SeatNode> {
  const storage = await openDurableStorage(env.config, testLogger, env.options);
  return createSeatNode(
    { holdTokenSecret: 'crash-test-secret-0123456789', snapshotEveryEvents: 40, snapshotEveryMs: 60_000 },
    storage,
    testLogger,
  );
}

describe('crash of a worker process (SIGKILL)', { skip }, () => {
  for (const where of ['anywhere', 'between the log append and the bookings commit'] as const) {
    it(`keeps every answered confirm, in the actor state and the bookings table, none twice (killed ${where})`, async () => {
      const env = await durableTestEnv('crash');
      const showId = uniqueName('show');
      const stuck = where !== 'anywhere';
      const worker = startWorker(env, {
        SHOW_ID: showId,
        MODE: 'confirms',
        CONCURRENCY: '8',
        ...(stuck ? { HANG_BOOKINGS_AFTER: '20' } : {}),
      });
      let node: SeatNode | null = null;
      try {
        if (stuck) await worker.waitFor((l) => l.some((x) => x.startsWith('STUCK')));
        else await worker.waitFor((l) => l.filter((x) => x.startsWith('CONFIRMED')).length >= 60);
        await worker.kill();
        assert.ok(!worker.lines.includes('DONE'), 'killed in the middle of the stream');
        const acked = worker.lines
          .filter((l) => l.startsWith('CONFIRMED'))
          .map((l) => {
            const [, bookingId, holdId, seats] = l.split(' ');
            return { bookingId, holdId, seats: seats.split(',') };
          });

        node = await restart(env);
        const store = node.storage.bookings as PostgresBookingStore;
        // Rows committed before the kill; the activation below repairs any the log has beyond them.
        const rowsBefore = await store.listByShow(showId);
        const state = await node.host.read(showId, (s) => {
          checkAccounting(s);
          return { bookings: new Map(s.bookings), version: s.version };
        });
        for (const a of acked) {
          const b = state.bookings.get(a.bookingId);
          assert.ok(b, `answered booking ${a.bookingId} is in the state`);
          assert.equal(b.status, 'confirmed');
          assert.deepEqual(b.seats, a.seats);
        }
        // After activation the table holds exactly the bookings of the state: answered ones,
        // plus any the log took just before the kill (repaired at activation).
        const rows = await store.listByShow(showId);
        if (process.env.CRASH_DEBUG)
          process.stderr.write(
            `answered ${acked.length}, in state ${state.bookings.size}, rows before activation ${rowsBefore.length}, after ${rows.length}\n`,
          );
        assert.deepEqual(new Set(rows.map((r) => r.bookingId)), new Set(state.bookings.keys()));
        const seatsInRows = rows.flatMap((r) => r.seats);
        assert.equal(new Set(seatsInRows).size, seatsInRows.length, 'no seat in two booking rows');
        for (const a of acked) assert.deepEqual(rows.find((r) => r.bookingId === a.bookingId)?.seats, a.seats);
        if (stuck) {
          const unanswered = (worker.lines.find((l) => l.startsWith('STUCK')) as string).split(' ')[1].split(',');
          for (const id of unanswered) {
            assert.ok(!rowsBefore.some((r) => r.bookingId === id), `${id} had no row before the restart`);
            assert.ok(!acked.some((a) => a.bookingId === id), `${id} was never answered`);
            assert.ok(state.bookings.has(id), `${id} is in the log`);
          }
        }

        // The restarted node carries on selling where the dead one stopped.
        const h = await node.service.hold(showId, { count: 1 });
        const b = await node.service.confirm(showId, h.holdId, h.holdToken, { paymentRef: 'after-restart' });
        assert.ok(await node.storage.bookings?.get(showId, b.bookingId));
      } finally {
        await worker.kill();
        await node?.close();
        await env.cleanup();
      }
    });
  }

  for (const restartAfterDeadline of [false, true]) {
    it(`expires the dead owner's holds on activation (restarted ${restartAfterDeadline ? 'after' : 'before'} their deadline)`, async () => {
      const env = await durableTestEnv('expiry');
      const showId = uniqueName('show');
      const worker = startWorker(env, { SHOW_ID: showId, MODE: 'holds', HOLDS: '3', TTL_SECONDS: '2', ROWS: '2' });
      let node: SeatNode | null = null;
      try {
        await worker.waitFor((l) => l.includes('DONE'));
        await worker.kill();
        const holds = worker.lines
          .filter((l) => l.startsWith('HELD'))
          .map((l) => ({ holdId: l.split(' ')[1], expiresAt: Number(l.split(' ')[2]) }));
        assert.equal(holds.length, 3);
        const deadline = Math.max(...holds.map((h) => h.expiresAt));
        if (restartAfterDeadline) await eventually(() => Date.now() > deadline + 50, 10_000, 'the hold deadlines to pass');

        node = await restart(env);
        const n = node;
        if (!restartAfterDeadline) {
          const live = await n.host.read(showId, (s) => s.holds.size);
          assert.ok(live > 0 || Date.now() >= deadline, 'holds are still live before their deadline');
        }
        await eventually(
          () => n.host.read(showId, (s) => s.holds.size === 0 && s.seatStatus.every((x) => x === SEAT_AVAILABLE)),
          15_000,
          'the dead owner holds to expire',
        );
        const ended = await n.host.read(showId, (s) => holds.map((h) => s.endedHolds.get(h.holdId)?.reason));
        assert.deepEqual(ended, ['expired', 'expired', 'expired']);
        // The expiry is in the log, not just in this process's memory.
        const fresh = await n.host.load(showId);
        assert.equal(fresh.state?.holds.size, 0);
      } finally {
        await worker.kill();
        await node?.close();
        await env.cleanup();
      }
    });
  }
});
