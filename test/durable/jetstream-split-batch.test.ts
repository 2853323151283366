import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { headers as natsHeaders, type NatsConnection } from 'nats';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { DEFAULT_LIMITS, DEFAULT_OFFERS } from '../../src/actors/defaults.ts';
import { serializeState } from '../../src/actors/state-codec.ts';
import { SeatError } from '../../src/errors.ts';
import type { CommandReply, ShowEvent } from '../../src/actors/types.ts';
import { StaticPlacement } from '../../src/cluster/static-placement.ts';
import { ReplicaFollower } from '../../src/cluster/replica-follower.ts';
import { encodeBatch, PART_HEAD_HEADER, PART_HEADER } from '../../src/persistence/jetstream-entries.ts';
import { JetStreamEventLog } from '../../src/persistence/jetstream-event-log.ts';
import { MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import { NatsBus } from '../../src/persistence/nats-bus.ts';
import { outEventPublisher, type ShowCancelledOut } from '../../src/projections/out-events.ts';
import type { Bus, LogEntry } from '../../src/core/ports.ts';
import { newId } from '../../src/service/local-seat-service.ts';
import { OUT_SUBJECTS } from '../../src/subjects.ts';
import { showDef } from '../../testkit/shows.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { connectTestNats, deleteStream, eventually, testLogger as logger } from './support.ts';
import { seatLabels } from '../../src/actors/seat-map.ts';

const skip = await needServices('nats');
/** The core NATS default max_payload: no out-event may be larger. */
const BUS_LIMIT_BYTES = 1024 * 1024;

async function entriesAfter(log: JetStreamEventLog, showId: string, afterSeq: number): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of log.read(showId, afterSeq)) out.push(e);
  return out;
}

/** Subject message count of one show (what a purge or a split changes). */
async function subjectMessages(nc: NatsConnection, stream: string, subject: string): Promise<number> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  return info.state.subjects?.[subject] ?? 0;
}

describe('a stadium cancellation larger than one log entry', { skip, timeout: 240_000 }, () => {
  const SEATS_ROWS = 400;
  const SEATS_PER_ROW = 500; // 200,000 seats
  const BOOKINGS = 100_000;
  const SMALL_HOLDS = 40;
  const stream = uniqueName('S_SPLIT');
  const busPrefix = `${stream}.bus`;
  let nc: NatsConnection;
  /** The out-events (100,000 booking.cancelled) travel on their own connection, not queued ahead of the log's requests. */
  let busNc: NatsConnection;
  /** Warnings of the bus (a publish the server refused would be one). */
  const busWarnings: string[] = [];
  const busLogger = pino({ level: 'warn' }, { write: (line: string) => void busWarnings.push(line) });
  let log: JetStreamEventLog;
  let host: ActorHost;
  let follower: ReplicaFollower;
  const snapshots = new MemorySnapshotStore();
  const pages: Array<{ bytes: number; event: ShowCancelledOut }> = [];
  const natsBusFlush = () => busNc.flush();
  const natsBusMax = () => busNc.info?.max_payload;

  before(async () => {
    nc = await connectTestNats();
    log = await JetStreamEventLog.open(nc, { logger, stream, subjectPrefix: `${stream}.events` });
    busNc = await connectTestNats();
    const natsBus = new NatsBus(busNc, { logger: busLogger, subjectPrefix: busPrefix });
    // What goes on the wire, measured as NatsBus encodes it (JSON, UTF-8); NatsBus logs any publish the server refuses.
    const bus: Bus = {
      maxMessageBytes: natsBus.maxMessageBytes,
      publish: (subject, message) => {
        if (subject === OUT_SUBJECTS.ShowCancelled)
          pages.push({ bytes: Buffer.byteLength(JSON.stringify(message), 'utf8'), event: message as ShowCancelledOut });
        natsBus.publish(subject, message);
      },
      subscribe: (subject, handler) => natsBus.subscribe(subject, handler),
      close: () => natsBus.close(),
    };
    // No snapshots while building: serializing a 100,000-booking show every batch is what would take the time.
    host = new ActorHost({
      log,
      snapshots,
      logger,
      maxBatch: 4096,
      snapshotEveryEvents: 1e9,
      snapshotEveryMs: 1e9,
      onCommitted: outEventPublisher(bus, logger),
    });
    const def = showDef('stadium', SEATS_ROWS, SEATS_PER_ROW, { limits: { ...DEFAULT_LIMITS }, offers: { ...DEFAULT_OFFERS } });
    await host.execute('stadium', { type: 'createShow', def });
    const labels = await host.read('stadium', (s) => seatLabels(s.seatMap).slice(0, BOOKINGS + SMALL_HOLDS));
    const WAVE = 10_000;
    for (let start = 0; start < BOOKINGS; start += WAVE) {
      const ids = Array.from({ length: Math.min(WAVE, BOOKINGS - start) }, (_, k) => start + k);
      await Promise.all(ids.map((i) => host.execute('stadium', { type: 'hold', holdId: `h${i}`, seats: [labels[i]] })));
      // Booking ids as the seat service makes them (random, so they do not gzip away).
      await Promise.all(ids.map((i) => host.execute('stadium', { type: 'confirm', holdId: `h${i}`, bookingId: newId('b') })));
    }
    // A replica following the show's subject live, as a warm copy would.
    follower = new ReplicaFollower({
      nc,
      log,
      stream,
      subjectPrefix: `${stream}.events`,
      snapshots,
      placement: new StaticPlacement('replica', ['owner', 'replica']),
      logger,
    });
    await follower.start();
    await eventually(() => follower.peek('stadium', () => true), 60_000, 'the replica copy');
  });

  after(async () => {
    await follower?.close();
    await host?.close().catch(() => undefined);
    await log?.close();
    await deleteStream(stream);
    await nc?.close();
    await busNc?.close();
  });

  it('commits with the small commands of its batch, answers every refund, recovers identical', async () => {
    const labels = await host.read('stadium', (s) => seatLabels(s.seatMap).slice(BOOKINGS, BOOKINGS + SMALL_HOLDS));
    const seqBefore = await log.lastSeq('stadium');
    const messagesBefore = await subjectMessages(nc, stream, log.subjectOf('stadium'));
    // Sent in one tick: the small holds and the cancellation share one batch.
    const small = labels.map((label, i) => host.execute('stadium', { type: 'hold', holdId: `small${i}`, seats: [label] }));
    const cancel = host.execute('stadium', { type: 'cancelShow', reason: 'storm' });
    const smallReplies = await Promise.allSettled(small);
    const reply = (await cancel) as Extract<CommandReply, { type: 'cancelShow' }>;
    for (const r of smallReplies) assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String((r.reason as Error).message) : '');
    assert.equal(reply.refunds.length, BOOKINGS);
    assert.equal(new Set(reply.refunds.map((b) => b.bookingId)).size, BOOKINGS);
    assert.ok(reply.refunds.every((b) => b.status === 'cancelled' && b.refundDue === b.total));
    assert.equal(reply.releasedHolds.length, SMALL_HOLDS);

    // The holds committed on their own; the cancellation alone, as one logical entry stored as several messages.
    const entries = await entriesAfter(log, 'stadium', seqBefore);
    assert.equal(entries.length, 2, 'the small commands and the cancellation');
    assert.deepEqual(new Set(entries[0].events.map((e) => e.type)), new Set(['SeatsHeld']));
    assert.equal(entries[0].events.length, SMALL_HOLDS);
    const entry = entries[1];
    assert.equal(entry.events.filter((e) => e.type === 'BookingCancelled').length, BOOKINGS);
    assert.equal(entry.events.filter((e) => e.type === 'HoldReleased').length, SMALL_HOLDS);
    assert.equal(entry.events.at(-1)?.type, 'ShowCancelled');
    const parts = (await subjectMessages(nc, stream, log.subjectOf('stadium'))) - messagesBefore - 1;
    assert.ok(parts >= 2, `the cancellation was split (${parts} messages)`);

    const live = await host.read('stadium', (s) => serializeState(s));
    assert.equal(live.status, 'cancelled');
    assert.equal(live.logSeq, entry.seq);

    // The replica applies the group once its last part is there.
    await eventually(() => follower.peek('stadium', (c) => c.seq === entry.seq), 60_000, 'the replica to apply the group');
    assert.deepEqual(
      follower.peek('stadium', (c) => serializeState(c.state)),
      live,
    );

    // A restart from the log alone replays the group to the same state.
    await host.close();
    const nc2 = await connectTestNats();
    try {
      const log2 = await JetStreamEventLog.open(nc2, { logger, stream, subjectPrefix: `${stream}.events` });
      const rebuilt = await new ActorHost({ log: log2, snapshots: new MemorySnapshotStore(), logger }).load('stadium');
      assert.ok(rebuilt.state);
      assert.deepEqual(serializeState(rebuilt.state), live);
    } finally {
      await nc2.close();
    }

    // Refunds go out as pages, each under the bus limit, covering every refund once.
    assert.equal(natsBusMax(), BUS_LIMIT_BYTES);
    // Out-events of a batch this big are published in slices, the event loop running between them.
    await eventually(() => pages.length > 0 && pages.length === pages[0].event.pages, 60_000, 'every show.cancelled page');
    await natsBusFlush();
    const pageCount = pages.length;
    assert.deepEqual(busWarnings, [], 'every out-event reached the server');
    assert.ok(pageCount >= 2, 'more than one page');
    const ids = new Set<string>();
    const refunded = new Set<string>();
    let total = 0;
    let released = 0;
    for (const { bytes, event } of pages) {
      assert.ok(bytes <= BUS_LIMIT_BYTES, `page ${event.page} is ${bytes} bytes`);
      assert.equal(event.pages, pageCount);
      assert.equal(event.type, 'ShowCancelled');
      ids.add(event.eventId);
      for (const b of event.refunds) refunded.add(b.bookingId);
      total += event.refundTotal;
      released += event.releasedHolds.length;
    }
    assert.equal(ids.size, pageCount, 'each page has its own eventId');
    assert.deepEqual(
      pages.map((p) => p.event.page).sort((a, b) => a - b),
      Array.from({ length: pageCount }, (_, i) => i + 1),
    );
    assert.equal(refunded.size, BOOKINGS);
    assert.equal(
      total,
      reply.refunds.reduce((sum, b) => sum + (b.refundDue ?? 0), 0),
    );
    assert.equal(released, SMALL_HOLDS);
  });
});

describe('a writer that dies in the middle of a split batch', { skip }, () => {
  const stream = uniqueName('S_ORPHAN');
  const prefix = `${stream}.events`;
  /** Small entries, so a cancellation of a few hundred bookings splits. */
  const MAX_MSG_BYTES = 4096;
  let nc: NatsConnection;
  let log: JetStreamEventLog;

  before(async () => {
    nc = await connectTestNats();
    log = await JetStreamEventLog.open(nc, { logger, stream, subjectPrefix: prefix, maxMsgBytes: MAX_MSG_BYTES });
  });
  after(async () => {
    await log.close();
    await deleteStream(stream);
    await nc.close();
  });

  async function bookedShow(showId: string, bookings: number): Promise<ActorHost> {
    const host = new ActorHost({ log, snapshots: new MemorySnapshotStore(), logger, maxBatch: 64 });
    await host.execute(showId, { type: 'createShow', def: showDef(showId, 20, 20) });
    const labels = await host.read(showId, (s) => seatLabels(s.seatMap).slice());
    for (let i = 0; i < bookings; i++) {
      await host.execute(showId, { type: 'hold', holdId: `h${i}`, seats: [labels[i]] });
      await host.execute(showId, { type: 'confirm', holdId: `h${i}`, bookingId: `b${i}` });
    }
    return host;
  }

  /** Publishes one part of a split batch by hand, as a writer does (fenced on the message before it). */
  async function publishPart(
    showId: string,
    part: { batchId: string; firstVersion: number; events: ShowEvent[]; index: number; count: number; head?: number },
    expectedLastSeq: number,
  ): Promise<number> {
    const h = natsHeaders();
    h.set('Nats-Msg-Id', `${part.batchId}:${part.index}/${part.count}`);
    h.set(PART_HEADER, `${part.index}/${part.count}`);
    if (part.head) h.set(PART_HEAD_HEADER, String(part.head));
    const data = encodeBatch({ batchId: part.batchId, firstVersion: part.firstVersion, events: part.events });
    const ack = await nc
      .jetstream()
      .publish(log.subjectOf(showId), data, { headers: h, expect: { lastSubjectSequence: expectedLastSeq, streamName: stream } });
    return ack.seq;
  }

  const cancellations = (n: number): ShowEvent[] =>
    Array.from({ length: n }, (_, i) => ({ type: 'BookingCancelled' as const, bookingId: `b${i}`, reason: 'cancelled' as const, at: 1 }));

  /** What a writer leaves when it dies after the first part of a group was acknowledged. */
  function publishFirstPartOnly(showId: string, firstVersion: number, expectedLastSeq: number): Promise<number> {
    return publishPart(showId, { batchId: 'dying-writer', firstVersion, events: cancellations(30), index: 0, count: 2 }, expectedLastSeq);
  }

  it('splits into fenced parts that read back as one entry', async () => {
    const host = await bookedShow('split', 200);
    const before = await log.lastSeq('split');
    const reply = await host.execute('split', { type: 'cancelShow' });
    assert.equal(reply.type === 'cancelShow' && reply.refunds.length, 200);
    const messages = await subjectMessages(nc, stream, log.subjectOf('split'));
    assert.ok(messages > 1 + 400 / 64 + 1, 'the cancellation took several messages');
    const entries = await entriesAfter(log, 'split', before);
    assert.equal(entries.length, 1);
    assert.equal(entries[0].events.length, 201);
    const live = await host.read('split', (s) => serializeState(s));
    await host.close();
    const rebuilt = await new ActorHost({ log, snapshots: new MemorySnapshotStore(), logger }).load('split');
    assert.deepEqual(serializeState(rebuilt.state!), live);
  });

  it('refuses alone a command whose one event cannot fit a message; the commands around it commit', async () => {
    const host = await bookedShow('lone', 0);
    const labels = await host.read('lone', (s) => seatLabels(s.seatMap).slice(0, 4));
    // Sent in one tick, so they reach the mailbox together.
    const before = [
      host.execute('lone', { type: 'hold', holdId: 'a', seats: [labels[0]] }),
      host.execute('lone', { type: 'hold', holdId: 'b', seats: [labels[1]] }),
    ];
    const huge = host.execute('lone', { type: 'changeShow', changes: { title: 'x'.repeat(2 * MAX_MSG_BYTES) } });
    const afterwards = [host.execute('lone', { type: 'hold', holdId: 'c', seats: [labels[2]] })];
    await assert.rejects(
      huge,
      (err: unknown) => err instanceof SeatError && err.code === 'INVALID_ARGUMENT' && /message limit/.test(err.message),
    );
    for (const r of await Promise.allSettled([...before, ...afterwards]))
      assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '');
    const state = await host.read('lone', (s) => ({ holds: [...s.holds.keys()].sort(), title: s.def.title }));
    assert.deepEqual(state, { holds: ['a', 'b', 'c'], title: 'Dune' });
    await host.close();
  });

  it('leaves no partial state, and the next writer appends', async () => {
    const host = await bookedShow('orphan', 50);
    const live = await host.read('orphan', (s) => serializeState(s));
    await host.close();
    // A replica following the subject live sees the orphaned part too.
    const follower = new ReplicaFollower({
      nc,
      log,
      stream,
      subjectPrefix: prefix,
      snapshots: new MemorySnapshotStore(),
      placement: new StaticPlacement('replica', ['owner', 'replica']),
      logger,
    });
    await follower.start();
    await eventually(() => follower.peek('orphan', (c) => c.seq === live.logSeq), 10_000, 'the replica copy');
    const orphanSeq = await publishFirstPartOnly('orphan', live.version + 1, live.logSeq);

    const next = new ActorHost({ log, snapshots: new MemorySnapshotStore(), logger });
    const loaded = await next.load('orphan');
    assert.equal(loaded.state?.version, live.version, 'the orphaned part changes nothing');
    assert.equal(loaded.seq, orphanSeq, 'the next writer is fenced on the last message');
    assert.deepEqual({ ...serializeState(loaded.state!), logSeq: 0 }, { ...live, logSeq: 0 });

    const labels = await next.read('orphan', (s) => seatLabels(s.seatMap).slice(300, 302));
    const held = await next.execute('orphan', { type: 'hold', holdId: 'after', seats: labels });
    assert.equal(held.type, 'hold');
    const after = await next.read('orphan', (s) => serializeState(s));
    try {
      await eventually(() => follower.peek('orphan', (c) => c.seq === after.logSeq), 10_000, 'the replica to apply the next entry');
      assert.deepEqual(
        follower.peek('orphan', (c) => serializeState(c.state)),
        after,
      );
      assert.equal(follower.stats().rebuilt, 0, 'the orphan was skipped, not a gap');
    } finally {
      await follower.close();
    }
    await next.close();
    const rebuilt = await new ActorHost({ log, snapshots: new MemorySnapshotStore(), logger }).load('orphan');
    assert.deepEqual(serializeState(rebuilt.state!), after);
    assert.equal(rebuilt.state?.bookings.get('b0')?.status, 'confirmed', 'the orphaned cancellations never applied');
  });

  it('a group completed after a reader skipped its head is read whole from that position', async () => {
    const host = await bookedShow('late', 30);
    const live = await host.read('late', (s) => serializeState(s));
    await host.close();
    // The first part lands; a reader sees an unfinished group and stops at its position.
    const events = cancellations(30);
    const group = { batchId: 'paused', count: 2 };
    const p0 = await publishPart('late', { ...group, firstVersion: live.version + 1, events: events.slice(0, 15), index: 0 }, live.logSeq);
    const skipped = await entriesAfter(log, 'late', live.logSeq);
    assert.deepEqual(
      skipped.map((e) => [e.seq, e.events.length]),
      [[p0, 0]],
    );
    // The paused writer resumes: nobody else wrote, so its fenced last part lands.
    const p1 = await publishPart('late', { ...group, firstVersion: live.version + 16, events: events.slice(15), index: 1, head: p0 }, p0);
    const whole = await entriesAfter(log, 'late', p0);
    assert.equal(whole.length, 1);
    assert.equal(whole[0].seq, p1);
    assert.equal(whole[0].firstVersion, live.version + 1);
    assert.equal(whole[0].events.length, 30);
  });
});
