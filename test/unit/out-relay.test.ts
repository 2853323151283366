import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openMemoryStorage, type Storage } from '../../src/persistence/index.ts';
import type { OutEvent, OutMessage } from '../../src/projections/out-events.ts';
import type { OutSink } from '../../src/projections/out-relay.ts';
import { showInput } from '../../testkit/shows.ts';
import { until } from '../../testkit/wait.ts';

const logger = pino({ level: 'silent' });
const SECRET = 'out-relay-test-secret-0123456789';

/** Deterministic randomness (a failure is reproducible from the seed). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** What JetStream does with Nats-Msg-Id: keeps the first message of each eventId. */
class Stream {
  readonly stored: OutEvent[] = [];
  private readonly ids = new Set<string>();
  /** eventIds stored when each snapshot was saved. */
  store(e: OutEvent): void {
    if (this.ids.has(e.eventId)) return;
    this.ids.add(e.eventId);
    this.stored.push(e);
  }
  has(eventId: string): boolean {
    return this.ids.has(eventId);
  }
}

/** A sink that loses messages (not stored) and acknowledgements (stored, reported failed). */
function flakySink(stream: Stream, random: () => number, opts: { dead?: () => boolean; queueMaxBatches?: number } = {}): OutSink {
  return {
    name: 'test',
    maxMessageBytes: 64 * 1024,
    concurrency: 8,
    inFlightPerShow: 1,
    ...(opts.queueMaxBatches !== undefined ? { queueMaxBatches: opts.queueMaxBatches } : {}),
    send: async (m: OutMessage) => {
      const lost = opts.dead?.() || random() < 0.15;
      if (!lost) stream.store(m.event);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 3)));
      if (lost || random() < 0.15) throw new Error(lost ? 'message lost' : 'ack lost');
    },
  };
}

function nodeOn(storage: Storage, sink: OutSink, snapshotEveryEvents = 6): SeatNode {
  storage.outSink = sink;
  return createSeatNode({ holdTokenSecret: SECRET, snapshotEveryEvents, snapshotEveryMs: 600_000 }, storage, logger);
}

/** Records, at every snapshot written, which out-events the stream held then. */
function watchSnapshots(storage: Storage, stream: Stream): Array<{ showId: string; version: number; had: Set<string> }> {
  const saves: Array<{ showId: string; version: number; had: Set<string> }> = [];
  const inner = storage.snapshots;
  const save = inner.save.bind(inner);
  inner.save = (s) => {
    saves.push({ showId: s.showId, version: s.version, had: new Set(stream.stored.map((e) => e.eventId)) });
    return save(s);
  };
  return saves;
}

async function sell(node: SeatNode, showIds: string[], perShow: number): Promise<void> {
  await Promise.all(
    showIds.map(async (showId) => {
      for (let i = 0; i < perShow; i++) {
        const h = await node.service.hold(showId, { count: 1 });
        const b = await node.service.confirm(showId, h.holdId, h.holdToken, {});
        if (i % 4 === 3) await node.service.cancelBookings(showId, [b.bookingId]);
      }
    }),
  );
}

/** Every booking change of the shows' states is stored, each show's in version order. */
async function checkComplete(node: SeatNode, stream: Stream, showIds: string[]): Promise<void> {
  for (const showId of showIds) {
    const bookings = await node.host.read(showId, (s) => [...s.bookings.values()].map((b) => ({ id: b.bookingId, status: b.status })));
    const events = stream.stored.filter((e) => e.showId === showId);
    const versions = events.map((e) => e.version);
    assert.deepEqual(
      versions,
      [...versions].sort((a, b) => a - b),
      `${showId}: stored in version order`,
    );
    for (const b of bookings) {
      assert.ok(
        events.some((e) => e.type === 'BookingConfirmed' && e.booking.bookingId === b.id),
        `${b.id} confirmed out-event`,
      );
      if (b.status === 'cancelled')
        assert.ok(
          events.some((e) => e.type === 'BookingCancelled' && e.booking.bookingId === b.id),
          `${b.id} cancelled out-event`,
        );
    }
  }
}

function checkSnapshotsHeldBack(saves: Array<{ showId: string; version: number; had: Set<string> }>, stream: Stream): void {
  assert.ok(saves.length > 0, 'snapshots were written');
  for (const s of saves)
    for (const e of stream.stored)
      if (e.showId === s.showId && e.version <= s.version)
        assert.ok(s.had.has(e.eventId), `snapshot ${s.showId}@${s.version} waited for ${e.eventId}`);
}

describe('out relay', () => {
  it('delivers every out-event in order per show through lost messages and lost acks; snapshots are written only after delivery', async () => {
    const storage = openMemoryStorage(logger);
    const stream = new Stream();
    const saves = watchSnapshots(storage, stream);
    const node = nodeOn(storage, flakySink(stream, lcg(7)));
    const shows = ['r1', 'r2', 'r3'];
    try {
      for (const id of shows) await node.service.createShow(showInput(id, 3, 10));
      await sell(node, shows, 12);
      await until(() => node.outRelay?.stats().queued === 0, 20_000, 'the relay to drain');
      assert.ok((node.outRelay?.stats().failures ?? 0) > 0, 'some deliveries failed and were retried');
      await checkComplete(node, stream, shows);
      checkSnapshotsHeldBack(saves, stream);
    } finally {
      await node.close();
    }
  });

  it('a new owner re-delivers what a dead owner committed but never delivered', async () => {
    const storage = openMemoryStorage(logger);
    const stream = new Stream();
    const saves = watchSnapshots(storage, stream);
    let dead = false;
    const first = nodeOn(storage, flakySink(stream, lcg(11), { dead: () => dead }));
    const shows = ['d1', 'd2'];
    for (const id of shows) await first.service.createShow(showInput(id, 3, 10));
    await sell(first, shows, 6);
    await until(() => first.outRelay?.stats().queued === 0 && saves.length > 0, 20_000, 'delivery and a snapshot');
    // From here the first owner's deliveries vanish, as if it died after each commit.
    dead = true;
    await sell(first, shows, 6);
    const undelivered = (await first.host.read('d1', (s) => [...s.bookings.keys()])).filter(
      (id) => !stream.stored.some((e) => e.type === 'BookingConfirmed' && e.booking.bookingId === id),
    );
    assert.ok(undelivered.length > 0, 'some confirms were not delivered');
    first.host.dropAll(); // the owner is gone without a last snapshot
    await first.outRelay?.close();

    const second = nodeOn(storage, flakySink(stream, lcg(13)));
    try {
      for (const id of shows) assert.equal(await second.host.ensureActive(id), true);
      await until(() => second.outRelay?.stats().queued === 0, 20_000, 'the repair to be delivered');
      assert.ok((second.outRelay?.stats().repairs ?? 0) >= shows.length, 'each show repaired at activation');
      await checkComplete(second, stream, shows);
      checkSnapshotsHeldBack(saves, stream);
    } finally {
      await second.close();
    }
  });

  it('keeps memory bounded when the queue is full: later batches are re-read from the log', async () => {
    const storage = openMemoryStorage(logger);
    const stream = new Stream();
    const node = nodeOn(storage, flakySink(stream, lcg(17), { queueMaxBatches: 2 }), 1_000);
    const shows = ['o1', 'o2'];
    try {
      for (const id of shows) await node.service.createShow(showInput(id, 3, 10));
      await sell(node, shows, 16);
      await until(() => node.outRelay?.stats().queued === 0, 20_000, 'the relay to drain');
      assert.ok((node.outRelay?.stats().repairs ?? 0) > 0, 'the queue overflowed into log re-reads');
      await checkComplete(node, stream, shows);
    } finally {
      await node.close();
    }
  });
});
