import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckPolicy, JSONCodec, type NatsConnection } from 'nats';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openDurableStorage } from '../../src/persistence/durable-storage.ts';
import type { OutEvent } from '../../src/projections/out-events.ts';
import { OUT_SUBJECTS } from '../../src/subjects.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { connectTestNats, durableTestEnv, eventually, showInput, testLogger, type DurableTestEnv } from './support.ts';
import { startWorker } from './worker-process.ts';

const skip = await needServices('postgres', 'nats');
const SECRET = 'crash-test-secret-0123456789';

interface Stored {
  subject: string;
  event: OutEvent;
  bytes: number;
}

/** Every message of the out stream, in stream order (a few hundred: one request each). */
async function readOutStream(nc: NatsConnection, stream: string): Promise<Stored[]> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream);
  const codec = JSONCodec<OutEvent>();
  const out: Stored[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    out.push({ subject: m.subject, event: codec.decode(m.data), bytes: m.data.length });
  }
  return out;
}

function confirmedByBooking(stored: Stored[]): Map<string, string[]> {
  const byBooking = new Map<string, string[]>();
  for (const s of stored) {
    if (s.event.type !== 'BookingConfirmed') continue;
    const ids = byBooking.get(s.event.booking.bookingId) ?? [];
    ids.push(s.event.eventId);
    byBooking.set(s.event.booking.bookingId, ids);
  }
  return byBooking;
}

async function restart(env: DurableTestEnv): Promise<SeatNode> {
  const storage = await openDurableStorage(env.config, testLogger, env.options);
  return createSeatNode({ holdTokenSecret: SECRET, snapshotEveryEvents: 40, snapshotEveryMs: 60_000 }, storage, testLogger);
}

describe('out-events in the JetStream out stream', { skip }, () => {
  it('a worker killed between commits and their delivery: the new owner re-delivers, every answered confirm is in the stream once', async () => {
    const env = await durableTestEnv('outcrash');
    const outStream = `${env.stream}_OUT`;
    const showId = uniqueName('show');
    // From its 30th batch with out-events on, the worker delivers nothing, then dies 8 batches later.
    const worker = startWorker(env, { SHOW_ID: showId, MODE: 'confirms', CONCURRENCY: '4', OUT_EVENTS_DIE_AFTER_COMMIT_FOR_TESTS: '30' });
    const nc = await connectTestNats('out-stream-crash');
    let node: SeatNode | null = null;
    try {
      await eventually(() => worker.child.exitCode !== null || worker.child.signalCode !== null, 60_000, 'the worker to kill itself');
      assert.equal(worker.child.signalCode, 'SIGKILL');
      const acked = worker.lines.filter((l) => l.startsWith('CONFIRMED')).map((l) => l.split(' ')[1] as string);
      assert.ok(acked.length >= 30, `answered confirms before the kill: ${acked.length}`);

      const before = confirmedByBooking(await readOutStream(nc, outStream));
      const missing = acked.filter((id) => !before.has(id));
      assert.ok(missing.length > 0, 'the kill left answered confirms undelivered');

      // The new owner takes the show over (activation, as the takeover does) and repairs.
      node = await restart(env);
      assert.equal(await node.host.ensureActive(showId), true);
      const after = await eventually(
        async () => {
          const stored = await readOutStream(nc, outStream);
          const byBooking = confirmedByBooking(stored);
          return acked.every((id) => byBooking.has(id)) ? stored : false;
        },
        30_000,
        'every answered confirm in the stream',
      );
      const byBooking = confirmedByBooking(after);
      for (const id of acked) assert.equal(new Set(byBooking.get(id)).size, 1, `booking ${id}: one eventId`);
      // Nats-Msg-Id = eventId: the stream itself dropped what the repair sent again.
      const eventIds = after.map((s) => s.event.eventId);
      assert.equal(new Set(eventIds).size, eventIds.length, 'no eventId stored twice');
      for (const s of after) assert.equal(s.subject, `${env.busSubjectPrefix}.${OUT_SUBJECTS.BookingConfirmed}`);
      const versions = after.map((s) => s.event.version);
      assert.deepEqual(
        versions,
        [...versions].sort((a, b) => a - b),
        'in version order',
      );
      // Every booking the new owner's state holds is in the stream (acknowledged or not).
      const inState = await node.host.read(showId, (s) => [...s.bookings.keys()]);
      for (const id of inState) assert.ok(byBooking.has(id), `${id} of the state is in the stream`);
    } finally {
      await worker.kill();
      await node?.close();
      await nc.close();
      await env.cleanup();
    }
  });

  it('a show.cancelled too big for one message arrives complete, in pages under the limit', async () => {
    const env = await durableTestEnv('outpages');
    const outStream = `${env.stream}_OUT`;
    const nc = await connectTestNats('out-stream-pages');
    const storage = await openDurableStorage(env.config, testLogger, env.options);
    const limit = 8 * 1024;
    // Pages cut to 8 KiB instead of the server's 1 MiB: a few dozen bookings make several pages.
    storage.outSink = { ...storage.outSink!, maxMessageBytes: limit };
    const node = createSeatNode({ holdTokenSecret: SECRET, snapshotEveryEvents: 1_000, snapshotEveryMs: 600_000 }, storage, testLogger);
    try {
      const showId = uniqueName('big');
      await node.service.createShow(showInput(showId, 8, 25));
      const booked: string[] = [];
      for (let i = 0; i < 60; i++) {
        const h = await node.service.hold(showId, { count: 2 });
        booked.push((await node.service.confirm(showId, h.holdId, h.holdToken, { paymentRef: `pay-${i}` })).bookingId);
      }
      await node.service.hold(showId, { count: 3 });
      await node.service.cancelShow(showId, 'storm');
      const pages = await eventually(
        async () => {
          const cancelled = (await readOutStream(nc, outStream)).filter((s) => s.event.type === 'ShowCancelled');
          const first = cancelled[0]?.event as Extract<OutEvent, { type: 'ShowCancelled' }> | undefined;
          return first && cancelled.length === first.pages ? cancelled : false;
        },
        20_000,
        'every page of the cancellation',
      );
      assert.ok(pages.length > 1, `paged: ${pages.length}`);
      const events = pages.map((p) => p.event as Extract<OutEvent, { type: 'ShowCancelled' }>);
      assert.deepEqual(
        events.map((e) => e.page),
        events.map((_, i) => i + 1),
      );
      const version = events[0]!.version;
      assert.deepEqual(
        events.map((e) => e.eventId),
        events.map((_, i) => `${showId}:${version}:${i + 1}`),
      );
      for (const p of pages) assert.ok(p.bytes <= limit, `page of ${p.bytes} bytes within ${limit}`);
      const refunds = events.flatMap((e) => e.refunds);
      assert.deepEqual(refunds.map((r) => r.bookingId).sort(), [...booked].sort(), 'every booking refunded once');
      const total = events.reduce((sum, e) => sum + e.refundTotal, 0);
      assert.equal(
        total,
        refunds.reduce((sum, r) => sum + (r.refundDue ?? 0), 0),
      );
      assert.equal(events.flatMap((e) => e.releasedHolds).length, 1);

      // The README's consumer: durable, explicit acks, in order, dedup by eventId.
      const jsm = await nc.jetstreamManager();
      await jsm.consumers.add(outStream, {
        durable_name: 'payments',
        ack_policy: AckPolicy.Explicit,
        filter_subject: `${env.busSubjectPrefix}.seats.out.>`,
        max_ack_pending: 1,
      });
      const consumer = await nc.jetstream().consumers.get(outStream, 'payments');
      const jc = JSONCodec<OutEvent>();
      const handled = new Map<string, OutEvent>();
      const messages = await consumer.consume();
      const expected = new Set((await readOutStream(nc, outStream)).map((x) => x.event.eventId)).size;
      for await (const m of messages) {
        const event = jc.decode(m.data);
        if (!handled.has(event.eventId)) handled.set(event.eventId, event);
        m.ack();
        if (handled.size >= expected) break;
      }
      const confirmedIds = [...handled.values()].flatMap((e) => (e.type === 'BookingConfirmed' ? [e.booking.bookingId] : []));
      assert.deepEqual(confirmedIds.sort(), [...booked].sort(), 'the consumer saw every booking');
      assert.equal([...handled.values()].filter((e) => e.type === 'ShowCancelled').length, pages.length);
    } finally {
      await node.close();
      await nc.close();
      await env.cleanup();
    }
  });
});
