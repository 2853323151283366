import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { FORGET_MARGIN_MS } from '../../src/actors/forgetting.ts';
import { openDurableStorage, openEmbeddedStorage, type Storage } from '../../src/persistence/index.ts';
import { HoldTokens } from '../../src/service/hold-tokens.ts';
import { LocalSeatService } from '../../src/service/local-seat-service.ts';
import { durableTestEnv, eventually } from '../durable/support.ts';
import { showDef } from '../../testkit/shows.ts';
import { needServices } from '../../testkit/services.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const RETENTION_SECONDS = 60;

/**
 * A long on-sale must not keep every cancelled booking in the show: once no retry can need
 * one from memory, the show archives and forgets it, and the booking still reads the same
 * (from the archive), across a restart too. Time is the host's injected clock.
 */
async function forgetsAndStillReads(open: () => Promise<Storage>): Promise<void> {
  let clock = Date.now();
  const hostOn = (storage: Storage) =>
    new ActorHost({
      log: storage.log,
      snapshots: storage.snapshots,
      logger,
      now: () => clock,
      ...(storage.archive ? { archive: storage.archive } : {}),
      decideOptions: { idempotencyRetentionSeconds: RETENTION_SECONDS },
    });
  const serviceOn = (storage: Storage, host: ActorHost) =>
    new LocalSeatService(host, storage.catalog, storage.bus, new HoldTokens('t'.repeat(32)), storage.archive ?? null);

  let storage = await open();
  let host = hostOn(storage);
  let service = serviceOn(storage, host);
  await host.execute('arch', { type: 'createShow', def: showDef('arch') });
  for (const [holdId, bookingId, seat] of [
    ['h1', 'b1', 'A-1'],
    ['h2', 'b2', 'A-2'],
  ] as const) {
    await host.execute('arch', { type: 'hold', holdId, seats: [seat] });
    await host.execute('arch', { type: 'confirm', holdId, bookingId });
  }
  await host.execute('arch', { type: 'cancelBookings', bookingIds: ['b1'], refundPercent: 30 });
  await host.execute('arch', { type: 'hold', holdId: 'h3', seats: ['A-3'] });
  await host.execute('arch', { type: 'release', holdId: 'h3' });
  const cancelled = await service.getBooking('arch', 'b1');
  assert.equal(cancelled.status, 'cancelled');
  assert.equal(cancelled.refundDue, 15_000);

  // Not yet due: a commit changes nothing.
  clock += RETENTION_SECONDS * 1000;
  await host.execute('arch', { type: 'hold', holdId: 'h4', seats: ['A-4'] });
  assert.equal(await host.read('arch', (s) => s.bookings.has('b1')), true);

  clock += FORGET_MARGIN_MS + 1_000;
  await host.execute('arch', { type: 'hold', holdId: 'h5', seats: ['A-5'] });
  await eventually(
    () => host.read('arch', (s) => !s.bookings.has('b1') && !s.endedHolds.has('h3')),
    10_000,
    'the show to forget b1 and h3',
  );
  assert.equal(await host.read('arch', (s) => s.bookings.get('b2')?.status), 'confirmed');
  assert.deepEqual(await service.getBooking('arch', 'b1'), cancelled);
  await assert.rejects(service.getBooking('arch', 'nope'), { code: 'BOOKING_NOT_FOUND' });
  await listsArchivedToo(service, cancelled);

  // A restart replays the forgetting (from the snapshot or the log) and reads from the archive.
  await host.close();
  await storage.close();
  storage = await open();
  host = hostOn(storage);
  service = serviceOn(storage, host);
  assert.equal(await host.read('arch', (s) => s.bookings.has('b1')), false);
  assert.equal(await host.read('arch', (s) => s.holds.has('h5')), true);
  assert.deepEqual(await service.getBooking('arch', 'b1'), cancelled);
  await host.close();
  await storage.close();
}

/**
 * The admin's list merges the show's memory with the archive: the forgotten b1 (archived, with
 * its refund) and the live b2 (which Postgres also holds: memory wins), once each, in id order,
 * filtered and paged the same way from either source.
 */
async function listsArchivedToo(service: LocalSeatService, archived: Awaited<ReturnType<LocalSeatService['getBooking']>>): Promise<void> {
  const all = await service.listBookings('arch', {});
  assert.deepEqual(
    all.bookings.map((b) => b.bookingId),
    ['b1', 'b2'],
  );
  assert.deepEqual(all.bookings[0], archived);
  assert.equal(all.nextCursor, undefined);
  assert.deepEqual(
    (await service.listBookings('arch', { status: 'cancelled' })).bookings.map((b) => b.bookingId),
    ['b1'],
  );
  assert.deepEqual(
    (await service.listBookings('arch', { status: 'confirmed' })).bookings.map((b) => b.bookingId),
    ['b2'],
  );
  const first = await service.listBookings('arch', { limit: 1 });
  assert.deepEqual([first.bookings.map((b) => b.bookingId), first.nextCursor], [['b1'], 'b1']);
  const second = await service.listBookings('arch', { limit: 1, cursor: first.nextCursor });
  assert.deepEqual([second.bookings.map((b) => b.bookingId), second.nextCursor], [['b2'], undefined]);
}

const durableSkip = await needServices('postgres', 'nats');

describe('cancelled bookings leave the show for the archive', () => {
  it('embedded: DATA_DIR/bookings keeps them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'seats-archive-'));
    try {
      await forgetsAndStillReads(() => openEmbeddedStorage(dir, logger));
      assert.equal((await readdir(join(dir, 'bookings'))).length, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('durable: the bookings table keeps them', { skip: durableSkip }, async () => {
    const env = await durableTestEnv('arch');
    try {
      await forgetsAndStillReads(() => openDurableStorage(env.config, logger, env.options));
    } finally {
      await env.cleanup();
    }
  });
});
