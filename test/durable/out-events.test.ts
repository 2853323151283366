import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openDurableStorage } from '../../src/persistence/durable-storage.ts';
import { openMemoryStorage, type Storage } from '../../src/persistence/index.ts';
import { NatsBus } from '../../src/persistence/nats-bus.ts';
import type { OutEvent } from '../../src/projections/out-events.ts';
import type { Bus } from '../../src/core/ports.ts';
import { OUT_SUBJECTS } from '../../src/subjects.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { connectTestNats, durableTestEnv, eventually, showInput, testLogger } from './support.ts';

const skip = await needServices('postgres', 'nats');
const SECRET = 'out-events-test-secret-0123456789';

/** What a saga consumer does: dedup by eventId, keep per-show order. */
class Consumer {
  readonly seen = new Map<string, OutEvent>();
  readonly byShow = new Map<string, OutEvent[]>();
  duplicates = 0;
  subjects = new Map<string, string>();

  handle = (message: unknown, subject: string): void => {
    const e = message as OutEvent;
    if (this.seen.has(e.eventId)) {
      this.duplicates++;
      return;
    }
    this.seen.set(e.eventId, e);
    this.subjects.set(e.eventId, subject);
    const list = this.byShow.get(e.showId) ?? [];
    list.push(e);
    this.byShow.set(e.showId, list);
  };
}

/** Every kind of out-event on one show, then a second show interleaved with it. */
async function scenario(node: SeatNode, shows: [string, string]): Promise<{ expectTypes: string[]; refunded: string }> {
  const s = node.service;
  const [a, b] = shows;
  await s.createShow(showInput(a));
  await s.createShow(showInput(b));
  const h1 = await s.hold(a, { seats: ['A-1', 'A-2', 'A-3'] });
  const b1 = await s.confirm(a, h1.holdId, h1.holdToken, { paymentRef: 'pay-1' }); // BookingConfirmed
  await s.hold(b, { count: 2 });
  const h2 = await s.hold(a, { seats: ['B-1'], ttlSeconds: 1 });
  await eventually(() => node.host.read(a, (st) => !st.holds.has(h2.holdId)), 10_000, 'the short hold to expire'); // HoldExpired
  await s.cancelBookings(a, [b1.bookingId]); // BookingCancelled
  const h3 = await s.hold(a, { seats: ['C-1', 'C-2'] });
  const b3 = await s.confirm(a, h3.holdId, h3.holdToken, { paymentRef: 'pay-3' }); // BookingConfirmed
  await s.hold(a, { seats: ['D-1'] });
  await s.changeShow(a, { title: 'Dune: Part Two' }); // ShowChanged
  await s.cancelShow(a, 'projector on fire', { idempotencyKey: 'cancel-a' }); // BookingCancelled (b3) + ShowCancelled
  await s.cancelShow(a, 'projector on fire', { idempotencyKey: 'cancel-a' }); // a retry changes nothing
  return {
    expectTypes: [
      'BookingConfirmed',
      'HoldExpired',
      'BookingCancelled',
      'BookingConfirmed',
      'ShowChanged',
      'BookingCancelled',
      'ShowCancelled',
    ],
    refunded: b3.bookingId,
  };
}

function check(consumer: Consumer, showA: string, expect: { expectTypes: string[]; refunded: string }): void {
  const events = consumer.byShow.get(showA) ?? [];
  assert.deepEqual(
    events.map((e) => e.type),
    expect.expectTypes,
  );
  assert.equal(consumer.duplicates, 0, 'each change is published once');
  const versions = events.map((e) => e.version);
  assert.deepEqual(
    versions,
    [...versions].sort((x, y) => x - y),
    'in version order',
  );
  for (const e of events) {
    assert.equal(e.schemaVersion, 1);
    assert.equal(e.eventId, `${showA}:${e.version}`);
    assert.ok(!Number.isNaN(Date.parse(e.occurredAt)));
  }
  const subjectOf = (t: string) => consumer.subjects.get(events.find((e) => e.type === t)!.eventId);
  assert.equal(subjectOf('BookingConfirmed'), OUT_SUBJECTS.BookingConfirmed);
  assert.equal(subjectOf('HoldExpired'), OUT_SUBJECTS.HoldExpired);
  assert.equal(subjectOf('ShowChanged'), OUT_SUBJECTS.ShowChanged);
  const confirmed = events[0] as Extract<OutEvent, { type: 'BookingConfirmed' }>;
  assert.deepEqual(confirmed.booking.seats, ['A-1', 'A-2', 'A-3']);
  assert.equal(confirmed.booking.total, 125_000, 'the third ticket at half price');
  const expired = events[1] as Extract<OutEvent, { type: 'HoldExpired' }>;
  assert.deepEqual(expired.seats, ['B-1']);
  const changed = events[4] as Extract<OutEvent, { type: 'ShowChanged' }>;
  assert.equal(changed.show.title, 'Dune: Part Two');
  const cancelled = events[6] as Extract<OutEvent, { type: 'ShowCancelled' }>;
  assert.equal(cancelled.reason, 'projector on fire');
  assert.deepEqual(
    cancelled.refunds.map((r) => [r.bookingId, r.status, r.refundDue]),
    [[expect.refunded, 'cancelled', 100_000]],
  );
  assert.equal(cancelled.refundTotal, 100_000);
  assert.equal(cancelled.releasedHolds.length, 1);
}

async function run(storage: Storage, subscriberBus: Bus, flush: () => Promise<void>): Promise<void> {
  const node = createSeatNode({ holdTokenSecret: SECRET, snapshotEveryEvents: 5, snapshotEveryMs: 600_000 }, storage, testLogger);
  const consumer = new Consumer();
  const stop = subscriberBus.subscribe('seats.out.>', consumer.handle);
  try {
    const shows: [string, string] = [uniqueName('a'), uniqueName('b')];
    const expect = await scenario(node, shows);
    await flush();
    await eventually(() => (consumer.byShow.get(shows[0])?.length ?? 0) >= expect.expectTypes.length, 10_000, 'the out-events');
    check(consumer, shows[0], expect);
    assert.equal(consumer.byShow.get(shows[1]), undefined, 'holds alone publish nothing');
  } finally {
    stop();
    await node.close();
  }
}

describe('out-events', () => {
  it('go out once per change, in order, on the in-process bus', async () => {
    const storage = openMemoryStorage(testLogger);
    await run(storage, storage.bus, async () => undefined);
  });

  it('go out once per change, in order, on NATS to a consumer elsewhere', { skip }, async () => {
    const env = await durableTestEnv('out');
    const nc = await connectTestNats('out-events-consumer');
    const remote = new NatsBus(nc, { logger: testLogger, subjectPrefix: env.busSubjectPrefix });
    const storage = await openDurableStorage(env.config, testLogger, env.options);
    try {
      await run(storage, remote, async () => {
        await (storage.bus as NatsBus).flush();
        await nc.flush();
      });
    } finally {
      await remote.close();
      await nc.close();
      await env.cleanup();
    }
  });
});
