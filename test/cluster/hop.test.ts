import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, createInbox, type NatsConnection } from 'nats';
import { forgetKeys, retentionMs } from '../../src/actors/idempotency.ts';
import { deserializeState, serializeState } from '../../src/actors/state-codec.ts';
import { OwnerBatcher, RemoteSeatService, StaticPlacement, WorkerEndpoint } from '../../src/cluster/index.ts';
import { generatedKeyKeepSeconds } from '../../src/cluster/remote-seat-service.ts';
import { mapWireOf } from '../../src/cluster/show-map-wire.ts';
import { decodeResults, encodeJSON, type OpResults } from '../../src/cluster/wire.ts';
import type { SeatError } from '../../src/errors.ts';
import { logger } from '../../src/logger.ts';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { NatsBus } from '../../src/persistence/nats-bus.ts';
import type { CallContext, SeatService } from '../../src/service/seat-service.ts';
import { clusterSubjects } from '../../src/subjects.ts';
import { rowLabel, showInput } from '../../testkit/shows.ts';
import { SERVICE_URLS, needServices, uniqueName } from '../../testkit/services.ts';

/** Small enough that every map of a few thousand seats crosses in parts. */
const FRAME_BYTES = 8 * 1024;

/**
 * The hop in one process on the real NATS server: a RemoteSeatService → OwnerBatcher →
 * WorkerEndpoint → in-memory seat node, with a small frame cap so chunking is exercised both
 * ways. The service the endpoint calls is wrapped, so a test can hold one op back or see the
 * call context that arrived.
 */
describe('the gateway → owner hop', { skip: await needServices('nats') }, () => {
  let nc: NatsConnection;
  let node: SeatNode;
  let endpoint: WorkerEndpoint;
  let batcher: OwnerBatcher;
  let remote: RemoteSeatService;
  let subject: string;
  const seen: Array<{ method: string; ctx: CallContext | undefined }> = [];
  /** getBooking of this id waits until `release` is called. */
  const parked = { id: '', wait: Promise.resolve(), release: () => {} };
  /** The first hold on this show waits until a second one (the gateway's retry) arrives. */
  const retryGate = { showId: '', calls: 0, wait: Promise.resolve(), release: () => {} };

  before(async () => {
    nc = await connect({ servers: SERVICE_URLS.nats });
    node = createSeatNode(
      { holdTokenSecret: 'hop-test-secret-0123456789', snapshotEveryEvents: 100_000, snapshotEveryMs: 3_600_000 },
      openMemoryStorage(logger),
      logger,
    );
    const service: SeatService = Object.create(node.service);
    for (const m of ['hold', 'confirm', 'createShow', 'cancelBookings'] as const) {
      const original = (node.service[m] as (...a: unknown[]) => Promise<unknown>).bind(node.service);
      (service as unknown as Record<string, unknown>)[m] = async (...args: unknown[]) => {
        seen.push({ method: m, ctx: args[args.length - 1] as CallContext | undefined });
        if (m === 'hold' && args[0] === retryGate.showId && retryGate.calls++ === 0) await retryGate.wait;
        else if (m === 'hold' && args[0] === retryGate.showId) retryGate.release();
        return original(...args);
      };
    }
    service.getBooking = async (showId, bookingId, bookingToken) => {
      if (bookingId === parked.id) await parked.wait;
      return node.service.getBooking(showId, bookingId, bookingToken);
    };
    const prefix = uniqueName('hop').toLowerCase();
    subject = clusterSubjects(prefix).commands('w1');
    endpoint = new WorkerEndpoint({
      nc,
      subject,
      service,
      placement: new StaticPlacement('w1', ['w1']),
      logger,
      readMap: (showId) => node.host.read(showId, mapWireOf),
      maxFrameBytes: FRAME_BYTES,
    });
    endpoint.start();
    await nc.flush();
    batcher = new OwnerBatcher({ nc, subjectOf: clusterSubjects(prefix).commands, maxOps: 128, maxFrameBytes: FRAME_BYTES, logger });
    remote = new RemoteSeatService({
      placement: new StaticPlacement(null, ['w1']),
      batcher,
      catalog: node.storage.catalog,
      bus: node.storage.bus,
      requestTimeoutMs: 20_000,
      attemptTimeoutMs: 10_000,
      logger,
    });
  });
  after(async () => {
    parked.release();
    batcher?.close();
    await endpoint?.close();
    await node?.close();
    await nc?.close();
  });

  test("big requests and big answers cross in parts; the views equal the owner's", async () => {
    // 1,500 rows: the definition alone is far above one frame.
    const input = showInput('hop-big', 1_500, 4);
    assert.ok(JSON.stringify(input).length > 5 * FRAME_BYTES);
    const created = await remote.createShow(input, { idempotencyKey: 'create-1', caller: 'admin:ops' });
    assert.deepEqual(created, await node.service.getShow('hop-big'));
    const holds = await Promise.all(Array.from({ length: 40 }, (_, i) => remote.hold('hop-big', { seats: [`${rowLabel(100 + i)}-1`] })));
    const bookings = await Promise.all(holds.map((h) => remote.confirm('hop-big', h.holdId, h.holdToken, {})));
    const cancelled = await remote.cancelBookings(
      'hop-big',
      bookings.map((b) => b.bookingId),
    );
    assert.equal(cancelled.length, 40);
    assert.ok(JSON.stringify(cancelled).length > FRAME_BYTES);
    assert.deepEqual(await remote.getShow('hop-big'), await node.service.getShow('hop-big'));
    assert.deepEqual(await remote.getSeatMap('hop-big'), await node.service.getSeatMap('hop-big'));
    const changed = await remote.changeShow('hop-big', { title: 'Renamed' });
    assert.equal(changed.title, 'Renamed');
    assert.equal(changed.seats.length, 6_000);
  });

  test("the customer's booking crosses: its token, a cancel under the policy, the admin's list", async () => {
    const startsAt = new Date(Date.now() + 10 * 3_600_000).toISOString();
    await remote.createShow({
      ...showInput('hop-mine', 2, 10),
      startsAt,
      cancellationPolicy: [{ hoursBeforeStart: 5, refundPercent: 60 }],
    });
    const book = async (seat: string, customerId: string) => {
      const h = await remote.hold('hop-mine', { seats: [seat], customerId });
      return remote.confirm('hop-mine', h.holdId, h.holdToken, {});
    };
    const [b1, b2] = [await book('A-1', 'ann'), await book('A-2', 'ben')];
    assert.equal(typeof b1.bookingToken, 'string');
    assert.equal((await remote.getBooking('hop-mine', b1.bookingId, b1.bookingToken)).bookingId, b1.bookingId);
    await assert.rejects(remote.getBooking('hop-mine', b1.bookingId, b2.bookingToken), { code: 'FORBIDDEN' });
    await assert.rejects(remote.cancelOwnBooking('hop-mine', b1.bookingId, b2.bookingToken), { code: 'FORBIDDEN' });
    const cancelled = await remote.cancelOwnBooking('hop-mine', b1.bookingId, b1.bookingToken);
    assert.equal(cancelled.refundDue, (b1.total * 60) / 100);
    const [admin] = await remote.cancelBookings('hop-mine', [b2.bookingId], {}, { refundPercent: 0 });
    assert.equal(admin.refundDue, 0);
    const page = await remote.listBookings('hop-mine', { customerId: 'ann', limit: 5 });
    assert.deepEqual(
      page.bookings.map((b) => [b.bookingId, b.refundDue]),
      [[b1.bookingId, cancelled.refundDue]],
    );
    assert.equal(page.nextCursor, undefined);
    const first = await remote.listBookings('hop-mine', { limit: 1 });
    const second = await remote.listBookings('hop-mine', { limit: 1, cursor: first.nextCursor });
    assert.deepEqual(
      [...first.bookings, ...second.bookings].map((b) => b.bookingId),
      [b1.bookingId, b2.bookingId].sort(),
    );
    await assert.rejects(remote.listBookings('hop-mine', { limit: 0 }), { code: 'INVALID_ARGUMENT' });
  });

  test('the whole call context crosses, and a made-up key protects mutations without one', async () => {
    await remote.createShow(showInput('hop-ctx', 2, 10), { idempotencyKey: 'ctx-create', caller: 'customer:42' });
    seen.length = 0;
    const h = await remote.hold('hop-ctx', { seats: ['A-1'] }, { idempotencyKey: 'k-1', caller: 'customer:42' });
    await remote.confirm('hop-ctx', h.holdId, h.holdToken, {}, {});
    assert.deepEqual(seen[0], { method: 'hold', ctx: { idempotencyKey: 'k-1', caller: 'customer:42' } });
    assert.equal(seen[1].method, 'confirm');
    assert.match(seen[1].ctx?.idempotencyKey ?? '', /^rt-/);
    assert.equal(seen[1].ctx?.caller, undefined);
  });

  test('the show keeps a made-up key only as long as the gateway retries, a client key its whole retention', async () => {
    await remote.createShow(showInput('hop-keep', 2, 10));
    const before = Date.now();
    const routed = await remote.hold('hop-keep', { seats: ['A-1'] });
    const client = await remote.hold('hop-keep', { seats: ['A-2'] }, { idempotencyKey: 'client-key-0123456789', caller: 'customer:7' });
    const after = Date.now();
    const state = await node.host.read('hop-keep', (s) => deserializeState(serializeState(s)));
    const untilOf = (holdId: string) =>
      [...state.idempotent.values()].find((r) => r.result.type === 'hold' && r.result.holdId === holdId)?.until ?? NaN;
    const shortMs = generatedKeyKeepSeconds(20_000) * 1000;
    const longMs = retentionMs(state.def, undefined);
    assert.ok(shortMs < longMs);
    assert.ok(
      untilOf(routed.holdId) >= before + shortMs && untilOf(routed.holdId) <= after + shortMs,
      'the made-up key is kept the short time',
    );
    assert.ok(
      untilOf(client.holdId) >= before + longMs && untilOf(client.holdId) <= after + longMs,
      "the client key is kept the show's retention",
    );
    // Past the short time (event time drives forgetting) the made-up key is gone, the client's is not.
    forgetKeys(state, untilOf(routed.holdId));
    assert.ok(Number.isNaN(untilOf(routed.holdId)));
    assert.ok(!Number.isNaN(untilOf(client.holdId)));
  });

  test('a gateway retry under a made-up short-lived key does not apply twice', async () => {
    await remote.createShow(showInput('hop-retry', 2, 10));
    retryGate.showId = 'hop-retry';
    retryGate.wait = new Promise<void>((r) => (retryGate.release = r));
    // The first attempt times out at the gateway while the owner still holds it back.
    const impatient = new RemoteSeatService({
      placement: new StaticPlacement(null, ['w1']),
      batcher,
      catalog: node.storage.catalog,
      bus: node.storage.bus,
      requestTimeoutMs: 20_000,
      attemptTimeoutMs: 200,
      logger,
    });
    seen.length = 0;
    const h = await impatient.hold('hop-retry', { count: 2 });
    retryGate.showId = '';
    assert.equal(retryGate.calls, 2, 'the owner saw the first attempt and the retry');
    const ctxs = seen.filter((s) => s.method === 'hold').map((s) => s.ctx);
    assert.equal(ctxs[0]?.idempotencyKey, ctxs[1]?.idempotencyKey, 'the retry carried the same key');
    assert.equal(ctxs[0]?.idempotencyKeepSeconds, generatedKeyKeepSeconds(20_000));
    // Both attempts ran at the owner; only one hold exists.
    const show = await node.service.getShow('hop-retry');
    assert.deepEqual(show.counts, { available: 18, held: 2, booked: 0, blocked: 0 });
    assert.equal(await node.host.read('hop-retry', (s) => s.holds.size), 1);
    assert.ok(await node.host.read('hop-retry', (s) => s.holds.has(h.holdId)));
  });

  test('one slow op delays none of the ops packed with it', async () => {
    await remote.createShow(showInput('hop-slow', 5, 20));
    const h = await remote.hold('hop-slow', { seats: ['E-20'] });
    const b = await remote.confirm('hop-slow', h.holdId, h.holdToken, {});
    parked.id = b.bookingId;
    parked.wait = new Promise<void>((r) => (parked.release = r));
    const messagesBefore = endpoint.counts.messages;
    let slowDone = false;
    // All in one turn of the event loop: one pack.
    const slow = remote.getBooking('hop-slow', b.bookingId).then((v) => {
      slowDone = true;
      return v;
    });
    const fast = await Promise.all(
      Array.from({ length: 30 }, (_, i) => remote.hold('hop-slow', { seats: [`${rowLabel(Math.floor(i / 20))}-${(i % 20) + 1}`] })),
    );
    assert.equal(fast.length, 30);
    assert.equal(slowDone, false, 'the small ops were answered while the slow one still ran');
    assert.equal(endpoint.counts.messages - messagesBefore, 1, 'they shared one request message');
    parked.release();
    assert.equal((await slow).bookingId, b.bookingId);
  });

  test('an answer larger than a message does not fail the small ops beside it', async () => {
    await remote.createShow(showInput('hop-mixed', 60, 100));
    const messagesBefore = endpoint.counts.messages;
    const [map, ...holds] = await Promise.all([
      remote.getShow('hop-mixed'),
      ...Array.from({ length: 20 }, (_, i) => remote.hold('hop-mixed', { seats: [`B-${i + 1}`] })),
    ]);
    assert.equal(endpoint.counts.messages - messagesBefore, 1);
    assert.equal(map.seats.length, 6_000);
    assert.equal(holds.length, 20);
  });

  test('the worker checks every op with the edge schemas, and drops ops whose caller gave up', async () => {
    await remote.createShow(showInput('hop-check', 2, 10));
    const inbox = createInbox();
    const sub = nc.subscribe(inbox);
    const ops = [
      { id: 1, showId: 'hop-check', method: 'hold', req: { seats: ['A-1'], extra: true } },
      { id: 2, showId: 'hop-check', method: 'hold', req: { seats: 'A-1' } },
      { id: 3, showId: 'hop check', method: 'readMap', req: {} },
      { id: 4, showId: 'hop-check', method: 'dance', req: {} },
      { id: 5, showId: 'hop-check', method: 'createShow', req: { input: showInput('other', 1, 1) } },
      { id: 6, showId: 'hop-check', method: 'hold', req: { seats: ['A-2'] }, budgetMs: 0 },
      { id: 7, showId: 'hop-check', method: 'hold', req: { seats: ['A-3'] }, ctx: { caller: 'c', idempotencyKey: 'x'.repeat(2000) } },
      { id: 8, showId: 'hop-check', method: 'hold', req: { seats: ['A-4'] } },
      { id: 9, showId: 'hop-check', method: 'hold', req: { seats: ['A-5'] }, ctx: { idempotencyKey: 'k-9', idempotencyKeepSeconds: 0 } },
    ];
    const ack = await nc.request(subject, encodeJSON({ inbox, ops }), { timeout: 5_000 });
    assert.deepEqual(JSON.parse(new TextDecoder().decode(ack.data)), { accepted: ops.length });
    const results = new Map<number, OpResults['results'][number]>();
    for await (const m of sub) {
      for (const r of decodeResults(m.data)) results.set(r.id, r);
      if (results.size === ops.length) break;
    }
    const code = (id: number) => {
      const r = results.get(id)!;
      return r.ok ? 'ok' : r.error.code;
    };
    assert.deepEqual(
      ops.map((o) => code(o.id)),
      [
        'INVALID_ARGUMENT',
        'INVALID_ARGUMENT',
        'INVALID_ARGUMENT',
        'INVALID_ARGUMENT',
        'INVALID_ARGUMENT',
        'DEADLINE_EXCEEDED',
        'INVALID_ARGUMENT',
        'ok',
        'INVALID_ARGUMENT',
      ],
    );
    // Only the valid op changed the show.
    const show = await node.service.getShow('hop-check');
    assert.deepEqual(show.counts, { available: 19, held: 1, booked: 0, blocked: 0 });
  });

  test('a request to a worker that is not there fails at once as unavailable', async () => {
    const lonely = new OwnerBatcher({ nc, subjectOf: (n) => `${subject}.${n}.nobody`, maxOps: 8, logger });
    try {
      await assert.rejects(
        lonely.send('w9', { showId: 's', method: 'readMap', req: {} }, 10_000),
        (e: SeatError) => e.code === 'UNAVAILABLE',
      );
    } finally {
      lonely.close();
    }
  });
});

describe('seat deltas on the NATS bus', { skip: await needServices('nats') }, () => {
  test('a delta over max_payload reaches watchers as a resync with its versions', async () => {
    const nc = await connect({ servers: SERVICE_URLS.nats });
    const bus = new NatsBus(nc, { logger, subjectPrefix: uniqueName('bus').toLowerCase() });
    try {
      const got: unknown[] = [];
      let arrived!: () => void;
      const done = new Promise<void>((r) => (arrived = r));
      bus.subscribe('seats.delta.big', (m) => {
        got.push(m);
        if (got.length === 2) arrived();
      });
      await bus.flush();
      const changes = Array.from({ length: 120_000 }, (_, i) => [`R${Math.floor(i / 1000)}-${i % 1000}`, 'booked']);
      const big = { showId: 'big', fromVersion: 7, version: 9, layoutVersion: 1, showStatus: 'cancelled', changes, resync: false };
      assert.ok(JSON.stringify(big).length > nc.info!.max_payload);
      bus.publish('seats.delta.big', big);
      const small = { ...big, fromVersion: 9, version: 10, changes: [['A-1', 'available']] };
      bus.publish('seats.delta.big', small);
      await done;
      assert.deepEqual(got, [{ ...big, changes: [], resync: true }, small]);
    } finally {
      await bus.close();
      await nc.close();
    }
  });
});
