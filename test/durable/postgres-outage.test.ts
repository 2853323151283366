import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, SeatError } from '../../src/errors.ts';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openDurableStorage } from '../../src/persistence/durable-storage.ts';
import type { JetStreamEventLog } from '../../src/persistence/jetstream-event-log.ts';
import { PostgresBookingStore } from '../../src/persistence/postgres-booking-store.ts';
import { createPgPool } from '../../src/persistence/postgres-pool.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { durableTestEnv, eventually, showInput, testLogger, type DurableTestEnv } from './support.ts';

const skip = await needServices('postgres', 'nats');
const SECRET = 'postgres-outage-secret-0123456789';

/** The error a call failed with (the call must fail). */
async function failure(p: Promise<unknown>): Promise<SeatError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SeatError, `a SeatError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to fail');
}

function assertRetryable(err: SeatError): void {
  assert.equal(err.code, ErrorCode.UNAVAILABLE, err.message);
  assert.ok(err.retryable);
  assert.ok((err.details.retryAfterSeconds ?? 0) >= 1, 'tells the caller when to retry (Retry-After)');
}

describe('Postgres outage: holds go on, confirms wait for their rows', { skip }, () => {
  let env: DurableTestEnv;
  let proxy: TcpProxy;
  /** Reads the bookings table directly, around the proxy. */
  let direct: PostgresBookingStore;
  let directPool: ReturnType<typeof createPgPool>;
  const nodes: SeatNode[] = [];

  async function openNode(): Promise<SeatNode> {
    const storage = await openDurableStorage({ ...env.config, databaseUrl: proxy.urlFor(env.config.databaseUrl) }, testLogger, {
      ...env.options,
      statementTimeoutMs: 2_000,
    });
    const node = createSeatNode({ holdTokenSecret: SECRET, snapshotEveryEvents: 100_000, snapshotEveryMs: 3_600_000 }, storage, testLogger);
    nodes.push(node);
    return node;
  }

  before(async () => {
    env = await durableTestEnv('pgout');
    const target = new URL(env.config.databaseUrl);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    directPool = createPgPool({ connectionString: env.config.databaseUrl, logger: testLogger });
    direct = new PostgresBookingStore(directPool);
  });

  after(async () => {
    proxy?.restore();
    for (const n of nodes) await n.close().catch(() => undefined);
    await proxy?.close();
    await directPool?.end();
    await env?.cleanup();
  });

  it('serves holds, answers confirms 503 until Postgres is back, then the same booking with its row', async () => {
    const node = await openNode();
    const s = node.service;
    const showId = uniqueName('show');
    await s.createShow(showInput(showId));
    const h1 = await s.hold(showId, { seats: ['A-1', 'A-2'] });
    const h3 = await s.hold(showId, { seats: ['A-5'] });

    proxy.cut();
    // Holds, extends, releases and reads need no Postgres.
    const h2 = await s.hold(showId, { seats: ['B-1', 'B-2'] });
    await s.extendHold(showId, h2.holdId, h2.holdToken, 60);
    await s.release(showId, h2.holdId, h2.holdToken);
    assert.equal((await s.getSeatMap(showId)).showId, showId);

    // The confirm reaches the log but not the bookings table: not acknowledged, retryable.
    assertRetryable(await failure(s.confirm(showId, h1.holdId, h1.holdToken, { paymentRef: 'pay-1' }, { idempotencyKey: 'confirm-h1' })));
    const logged = await node.host.read(showId, (st) => st.bookingByHold.get(h1.holdId));
    assert.ok(logged, 'the confirm is in the log');
    // While its row is owed, no further booking change is committed.
    assertRetryable(await failure(s.confirm(showId, h3.holdId, h3.holdToken, { paymentRef: 'pay-3' }, { idempotencyKey: 'confirm-h3' })));
    assert.equal(await node.host.read(showId, (st) => st.bookingByHold.get(h3.holdId)), undefined, 'refused before the log');
    // The show's actor did not stop, and holds still work.
    assert.ok(node.host.isActive(showId), 'the actor is still up');
    const h4 = await s.hold(showId, { seats: ['C-1'] });
    await s.release(showId, h4.holdId, h4.holdToken);
    assert.ok(node.host.isActive(showId));

    proxy.restore();
    const booking = await eventually(
      () =>
        s
          .confirm(showId, h1.holdId, h1.holdToken, { paymentRef: 'pay-1' }, { idempotencyKey: 'confirm-h1' })
          .catch((err: SeatError) => (err.code === ErrorCode.UNAVAILABLE ? undefined : Promise.reject(err))),
      15_000,
      'the confirm to succeed after Postgres returned',
    );
    assert.equal(booking.bookingId, logged, 'the retry answers the booking the log already holds');
    assert.deepEqual(booking.seats, ['A-1', 'A-2']);
    const row = await direct.get(showId, booking.bookingId);
    assert.equal(row?.status, 'confirmed', 'its row is in the bookings table');
    const b3 = await s.confirm(showId, h3.holdId, h3.holdToken, { paymentRef: 'pay-3' }, { idempotencyKey: 'confirm-h3' });
    assert.ok(await direct.get(showId, b3.bookingId));
  });

  it('activates a show from the whole log while the snapshot store is unreachable', async () => {
    const first = await openNode();
    const showId = uniqueName('show');
    await first.service.createShow(showInput(showId));
    const h1 = await first.service.hold(showId, { seats: ['A-1'] });
    const b1 = await first.service.confirm(showId, h1.holdId, h1.holdToken, {});
    const h2 = await first.service.hold(showId, { seats: ['A-2'] });
    await first.close(); // writes the show's (first) snapshot: nothing is compacted yet

    const second = await openNode();
    // Gone from the table, so the row seen below is the one the replay wrote back.
    await directPool.query('DELETE FROM bookings WHERE booking_id = $1', [b1.bookingId]);
    proxy.cut();
    try {
      // Snapshot load fails: the show is rebuilt from its first log entry, holds included.
      const map = await second.service.getSeatMap(showId);
      assert.equal(map.showId, showId);
      const h3 = await second.service.hold(showId, { seats: ['A-3'] });
      const state = await second.host.read(showId, (st) => ({ holds: [...st.holds.keys()], booked: st.bookingByHold.get(h1.holdId) }));
      assert.deepEqual(new Set(state.holds), new Set([h2.holdId, h3.holdId]));
      assert.equal(state.booked, b1.bookingId);
    } finally {
      proxy.restore();
    }
    // The replayed log's bookings are written once Postgres answers again.
    await eventually(async () => (await direct.get(showId, b1.bookingId)) !== null, 10_000, 'the row to be there');
  });

  it('refuses (retryable) a show whose log was compacted below a snapshot it cannot read', async () => {
    const node = await openNode();
    const showId = uniqueName('show');
    await node.service.createShow(showInput(showId));
    await node.service.hold(showId, { seats: ['A-1'] });
    await node.host.snapshot(showId);
    await node.service.hold(showId, { seats: ['A-2'] });
    // A newer snapshot replaces the first: the log below the first one is purged.
    await node.host.snapshot(showId);
    await node.service.hold(showId, { seats: ['A-3'] });
    const log = node.storage.log as JetStreamEventLog;
    const firstKept = await eventually(async () => {
      for await (const e of log.read(showId, 0)) return e.firstVersion > 1 ? e.firstVersion : undefined;
      return undefined;
    });
    assert.ok(firstKept > 1, 'the log starts after version 1');
    await node.host.passivate(showId);

    proxy.cut();
    try {
      assertRetryable(await failure(node.service.hold(showId, { seats: ['A-9'] })));
      assert.equal(node.host.isActive(showId), false, 'no partial show is served');
    } finally {
      proxy.restore();
    }
    const h = await eventually(() => node.service.hold(showId, { seats: ['A-9'] }).catch(() => undefined), 10_000, 'the show to come back');
    assert.deepEqual(h.seats, ['A-9']);
  });
});
