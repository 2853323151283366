import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { seatLabels } from '../../src/actors/seat-map.ts';
import type { CommittedBatch } from '../../src/actors/show-actor.ts';
import { MemoryEventLog, MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import { outEventPublisher, outEventsOf, type OutEvent } from '../../src/projections/out-events.ts';
import type { Bus } from '../../src/core/ports.ts';
import { showDef } from '../../testkit/shows.ts';

const logger = pino({ level: 'silent' });
const LIMIT = 16 * 1024;

/** A host whose committed batches are collected. */
function collectingHost(): { host: ActorHost; batches: CommittedBatch[] } {
  const batches: CommittedBatch[] = [];
  const host = new ActorHost({
    log: new MemoryEventLog(),
    snapshots: new MemorySnapshotStore(),
    logger,
    maxBatch: 1024,
    onCommitted: (b) => batches.push({ ...b }),
  });
  return { host, batches };
}

function recordingBus(): Bus & { published: OutEvent[] } {
  const published: OutEvent[] = [];
  return {
    published,
    maxMessageBytes: LIMIT,
    publish: (_subject, m) => void published.push(m as OutEvent),
    subscribe: () => () => {},
    close: async () => {},
  };
}

describe('the out-event publisher', () => {
  it('publishes a big batch in slices with the event loop running between them, and what commits later after it', async () => {
    const { host, batches } = collectingHost();
    await host.execute('s', { type: 'createShow', def: showDef('s', 10, 50) });
    const labels = await host.read('s', (s) => seatLabels(s.seatMap).slice());
    await Promise.all(Array.from({ length: 300 }, (_, i) => host.execute('s', { type: 'hold', holdId: `h${i}`, seats: [labels[i]] })));
    await Promise.all(Array.from({ length: 300 }, (_, i) => host.execute('s', { type: 'confirm', holdId: `h${i}`, bookingId: `b${i}` })));
    await host.execute('s', { type: 'cancelShow', reason: 'storm' });
    const cancel = batches.at(-1) as CommittedBatch;
    // Another show's commit right after the cancellation.
    const other = collectingHost();
    await other.host.execute('t', { type: 'createShow', def: showDef('t') });
    const h = await other.host.execute('t', { type: 'hold', holdId: 'x1', seats: ['A-1'] });
    assert.equal(h.type, 'hold');
    await other.host.execute('t', { type: 'confirm', holdId: 'x1', bookingId: 'y1' });
    const confirm = other.batches.at(-1) as CommittedBatch;
    const expected = [...outEventsOf(cancel, Date.now(), LIMIT), ...outEventsOf(confirm, Date.now(), LIMIT)].map((m) => m.event.eventId);
    assert.ok(expected.filter((id) => id.startsWith('s:')).length > 300, 'a booking.cancelled each, and show.cancelled in pages');

    const bus = recordingBus();
    const publish = outEventPublisher(bus, logger, { sliceMs: 0 });
    publish(cancel);
    publish(confirm);
    const afterFirstSlice = bus.published.length;
    assert.ok(afterFirstSlice < expected.length, 'the rest waits for later turns of the event loop');
    let turns = 0;
    while (bus.published.length < expected.length && turns < 10 * expected.length) {
      await new Promise((resolve) => setImmediate(resolve));
      turns++;
    }
    assert.ok(turns > 1, 'other work ran between the slices');
    assert.deepEqual(
      bus.published.map((e) => e.eventId),
      expected,
      'every message once, in commit order',
    );
  });

  it('publishes a small batch before the commit listener returns', async () => {
    const { host, batches } = collectingHost();
    await host.execute('s', { type: 'createShow', def: showDef('s') });
    await host.execute('s', { type: 'hold', holdId: 'h1', seats: ['A-1'] });
    await host.execute('s', { type: 'confirm', holdId: 'h1', bookingId: 'b1' });
    const bus = recordingBus();
    outEventPublisher(bus, logger)(batches.at(-1) as CommittedBatch);
    assert.deepEqual(
      bus.published.map((e) => e.type),
      ['BookingConfirmed'],
    );
  });
});
