import assert from 'node:assert/strict';
import { mkdir, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { DEFAULT_LIMITS } from '../../src/actors/defaults.ts';
import type { ShowEvent } from '../../src/actors/types.ts';
import { crc32 } from '../../src/persistence/file-checksum.ts';
import { DEFAULT_RECORD_PAYLOAD_BYTES, FileEventLog, type FileEventLogOptions } from '../../src/persistence/file-event-log.ts';
import { MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import { FileSnapshotStore } from '../../src/persistence/file-snapshot-store.ts';
import type { EventLog, LogEntry } from '../../src/core/ports.ts';
import { showDef } from '../../testkit/shows.ts';
import { silentLogger, tempDir } from './temp-dir.ts';
import { seatLabels } from '../../src/actors/seat-map.ts';
import { garble } from './file-damage.ts';

async function collect(log: EventLog, showId: string, afterSeq = 0): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of log.read(showId, afterSeq)) out.push(e);
  return out;
}

const codeOf = (err: unknown): unknown => (err as { code?: unknown }).code;
const rejectsNotOwner = (p: Promise<unknown>) => assert.rejects(p, (err) => codeOf(err) === 'NOT_OWNER');
const event = (v: number) => ({ type: 'HoldExpired' as const, holdId: `h${v}-${'p'.repeat(200)}`, seats: [v] });

/** Appends `count` one-event batches to each show, interleaved; returns the new seqs per show. */
async function fill(log: EventLog, shows: string[], count: number): Promise<Map<string, number[]>> {
  const seqs = new Map<string, number[]>();
  const last = new Map<string, number>();
  for (const show of shows) {
    seqs.set(show, []);
    last.set(show, await log.lastSeq(show));
  }
  for (let i = 0; i < count; i++) {
    for (const show of shows) {
      const mine = seqs.get(show) as number[];
      const v = `${show}-after-${last.get(show)}`;
      const seq = await log.append(
        show,
        { batchId: v, firstVersion: mine.length + 1, events: [event(mine.length + 1)] },
        last.get(show) as number,
      );
      mine.push(seq);
      last.set(show, seq);
    }
  }
  return seqs;
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => /^events(-\d+)?\.log$/.test(n)).sort();
}

async function diskBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await segmentFiles(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

/** A record exactly as the first format wrote it: {showId,seq,batchId,firstVersion} "\n" events. */
function legacyRecord(showId: string, seq: number, batchId: string, firstVersion: number, events: unknown[]): Buffer {
  const body = Buffer.from(`${JSON.stringify({ showId, seq, batchId, firstVersion })}\n${JSON.stringify(events)}`, 'utf8');
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.writeUInt32BE(crc32(body), 4);
  return Buffer.concat([head, body]);
}

describe('file event log: segments and compaction', () => {
  let dir: { path: string; remove(): Promise<void> };
  let n = 0;
  const freshDir = () => join(dir.path, `log-${++n}`);
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.remove());

  async function openWithSnapshots(logDir: string, extra: Partial<FileEventLogOptions> = {}) {
    const snapshots = await FileSnapshotStore.open(join(logDir, 'snapshots'), silentLogger);
    const log = await FileEventLog.open(logDir, {
      logger: silentLogger,
      segmentBytes: 16 * 1024,
      snapshotSeqOf: (id) => snapshots.logSeqOf(id),
      ...extra,
    });
    const snapshotAt = async (showId: string, logSeq: number) => {
      await snapshots.save({ showId, version: logSeq, logSeq, state: {} });
      log.requestCompaction();
      await log.compacted();
    };
    return { log, snapshots, snapshotAt };
  }

  it('deletes segments once every show has a snapshot past them; disk bytes and index size drop', async () => {
    const logDir = freshDir();
    let { log, snapshotAt } = await openWithSnapshots(logDir);
    const seqs = await fill(log, ['a', 'b', 'c'], 120);
    const full = { files: (await segmentFiles(logDir)).length, bytes: await diskBytes(logDir), indexed: log.stats.indexedBatches };
    assert.ok(full.files >= 5, `the log rolled over several segments (${full.files})`);
    assert.equal(full.indexed, 360);

    // 'c' has no snapshot yet: it pins every segment holding its batches.
    await snapshotAt('a', (seqs.get('a') as number[]).at(-1) as number);
    await snapshotAt('b', (seqs.get('b') as number[]).at(-1) as number);
    assert.equal((await segmentFiles(logDir)).length, full.files, 'a show without a snapshot pins its segments');

    const cLast = (seqs.get('c') as number[]).at(-1) as number;
    await snapshotAt('c', cLast);
    const compacted = { files: (await segmentFiles(logDir)).length, bytes: await diskBytes(logDir), indexed: log.stats.indexedBatches };
    assert.ok(compacted.files <= 1, `only the active segment is left (${compacted.files} of ${full.files})`);
    assert.ok(compacted.bytes < full.bytes / 4, `disk bytes drop (${full.bytes} → ${compacted.bytes})`);
    assert.ok(compacted.indexed < full.indexed / 4, `index drops (${full.indexed} → ${compacted.indexed})`);
    assert.equal(log.stats.bytes, compacted.bytes);

    // Reading after the snapshot still works; reading what was compacted away says so.
    assert.deepEqual(await collect(log, 'c', cLast), []);
    await assert.rejects(collect(log, 'c', 0), (err) => codeOf(err) === 'INTERNAL');

    // After a restart every show keeps its fencing position, though its batches are gone.
    await log.close();
    ({ log, snapshotAt } = await openWithSnapshots(logDir));
    for (const show of ['a', 'b', 'c']) assert.equal(await log.lastSeq(show), (seqs.get(show) as number[]).at(-1));
    assert.deepEqual((await log.showIds()).sort(), ['a', 'b', 'c']);
    await assert.rejects(
      log.append('c', { batchId: 'stale', firstVersion: 121, events: [] }, cLast - 3),
      (err) => codeOf(err) === 'NOT_OWNER',
    );
    const next = await log.append('c', { batchId: 'c-121', firstVersion: 121, events: [event(121)] }, cLast);
    assert.ok(next > cLast, 'seqs keep increasing across compaction and restart');
    assert.deepEqual(
      (await collect(log, 'c', cLast)).map((e) => e.seq),
      [next],
    );
    await log.close();
  });

  it('keeps a segment a reader is still reading', async () => {
    const logDir = freshDir();
    const { log, snapshotAt } = await openWithSnapshots(logDir);
    const seqs = await fill(log, ['r'], 150);
    const reader = log.read('r', 0)[Symbol.asyncIterator]();
    const first = await reader.next();
    assert.equal((first.value as LogEntry).seq, (seqs.get('r') as number[])[0]);
    await snapshotAt('r', (seqs.get('r') as number[]).at(-1) as number);
    let count = 1;
    for (let r = await reader.next(); !r.done; r = await reader.next()) count++;
    assert.equal(count, 150, 'the reader saw every batch');
    log.requestCompaction();
    await log.compacted();
    assert.ok((await segmentFiles(logDir)).length <= 1, 'deleted once the reader finished');
    await log.close();
  });

  it('reads a log of the previous format (one events.log), appends on, and compacts it away', async () => {
    const logDir = freshDir();
    await mkdir(logDir);
    const legacy: Buffer[] = [Buffer.from('SEATLOG\x01', 'latin1')];
    for (let v = 1; v <= 20; v++) legacy.push(legacyRecord('old', v, `old-${v}`, v, [event(v)]));
    await writeFile(join(logDir, 'events.log'), Buffer.concat(legacy));

    let { log, snapshotAt } = await openWithSnapshots(logDir);
    assert.deepEqual(
      (await collect(log, 'old')).map((e) => e.seq),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.deepEqual((await collect(log, 'old'))[4].events, [event(5)]);
    const seqs = await fill(log, ['old'], 120);
    assert.ok((await segmentFiles(logDir)).includes('events-000001.log'), 'new segments follow the old file');
    await log.close();
    ({ log, snapshotAt } = await openWithSnapshots(logDir));
    const all = [...Array.from({ length: 20 }, (_, i) => i + 1), ...(seqs.get('old') as number[])];
    assert.deepEqual(
      (await collect(log, 'old')).map((e) => e.seq),
      all,
      'old and new batches, in order, after a restart',
    );
    await snapshotAt('old', (seqs.get('old') as number[]).at(-1) as number);
    assert.ok(!(await segmentFiles(logDir)).includes('events.log'), 'the old file goes once snapshots cover it');
    await log.close();
  });

  it('finishes a roll that crashed before the new segment got its checkpoint, so older segments can still go', async () => {
    const logDir = freshDir();
    let { log, snapshotAt } = await openWithSnapshots(logDir);
    const seqs = (await fill(log, ['x'], 20)).get('x') as number[];
    await log.close();
    assert.deepEqual(await segmentFiles(logDir), ['events-000001.log']);
    // The crash left the next segment created but empty.
    await writeFile(join(logDir, 'events-000002.log'), Buffer.alloc(0));
    ({ log, snapshotAt } = await openWithSnapshots(logDir));
    assert.equal(await log.lastSeq('x'), seqs.at(-1));
    const next = await log.append('x', { batchId: 'x-next', firstVersion: 21, events: [event(21)] }, seqs.at(-1) as number);
    await snapshotAt('x', next);
    assert.deepEqual(await segmentFiles(logDir), ['events-000002.log'], 'the older segment went once covered');
    await log.close();
    ({ log } = await openWithSnapshots(logDir));
    assert.equal(await log.lastSeq('x'), next);
    await rejectsNotOwner(log.append('x', { batchId: 'x-stale', firstVersion: 21, events: [] }, seqs.at(-1) as number));
    await log.close();
  });

  it('cuts a torn final write of a batch spread over many records whole, never a part of it', async () => {
    const logDir = freshDir();
    const opts = { logger: silentLogger, recordPayloadBytes: 1024 };
    let log = await FileEventLog.open(logDir, opts);
    const s1 = await log.append('m', { batchId: 'm1', firstVersion: 1, events: [event(1)] }, 0);
    const big = Array.from({ length: 60 }, (_, i) => event(i + 2));
    const s2 = await log.append('m', { batchId: 'm2', firstVersion: 2, events: big }, s1);
    assert.equal((await collect(log, 'm'))[1].events.length, 60);
    await log.close();
    const path = join(logDir, 'events-000001.log');
    const size = (await stat(path)).size;

    // Garble one byte inside the big batch's third record: its other records are intact.
    await garble(path, size - 8_000, 1);
    log = await FileEventLog.open(logDir, opts);
    assert.deepEqual(
      (await collect(log, 'm')).map((e) => e.seq),
      [s1],
      'the torn group is cut whole',
    );
    assert.equal(await log.lastSeq('m'), s1);
    const again = await log.append('m', { batchId: 'm2', firstVersion: 2, events: big }, s1);
    await log.close();

    // Cut short in the middle of the group.
    await truncate(path, (await stat(path)).size - 3_000);
    log = await FileEventLog.open(logDir, opts);
    assert.deepEqual(
      (await collect(log, 'm')).map((e) => e.seq),
      [s1],
    );
    await log.close();
    assert.ok(again >= s2);
  });

  it('refuses damage in an older segment, and cuts there only when told to', async () => {
    const logDir = freshDir();
    const opts = { logger: silentLogger, segmentBytes: 16 * 1024 };
    const log = await FileEventLog.open(logDir, opts);
    const seqs = (await fill(log, ['d'], 120)).get('d') as number[];
    await log.close();
    const files = await segmentFiles(logDir);
    assert.ok(files.length >= 3);
    // Flip a byte in the middle of the second segment.
    const second = join(logDir, files[1]);
    await garble(second, Math.floor((await stat(second)).size / 2), 1);
    let refusal: { message: string; file?: string; offset?: number } | undefined;
    await assert.rejects(FileEventLog.open(logDir, opts), (err: Error & { file?: string; offset?: number }) => {
      assert.equal(codeOf(err), 'LOG_CORRUPT');
      assert.ok(err.message.includes(files[1]) && err.message.includes(`EVENT_LOG_TRUNCATE_AT=${err.file}:${err.offset}`));
      refusal = err;
      return true;
    });
    assert.equal(refusal?.file, files[1]);
    const cut = await FileEventLog.open(logDir, {
      ...opts,
      truncateAt: { file: refusal?.file as string, offset: refusal?.offset as number },
    });
    const kept = (await collect(cut, 'd')).map((e) => e.seq);
    assert.ok(kept.length > 0 && kept.length < seqs.length);
    assert.deepEqual(kept, seqs.slice(0, kept.length), 'everything before the damage is kept, in order');
    await cut.close();
    const after = await readdir(logDir);
    assert.ok(
      after.some((f) => f.startsWith(`${files[1]}.cut-`)),
      'the cut bytes are kept beside the segment',
    );
    assert.ok(after.includes(`${files[2]}.cut`), 'later segments are set aside, not deleted');
  });

  it('cancels a show whose cancellation spans many records, and brings it back after a restart', async () => {
    const logDir = freshDir();
    const opts = { logger: silentLogger, recordPayloadBytes: 16 * 1024 };
    let log = await FileEventLog.open(logDir, opts);
    const snapshots = await FileSnapshotStore.open(join(logDir, 'snapshots'), silentLogger);
    const host = new ActorHost({ log, snapshots, logger: silentLogger, maxBatch: 4096 });
    const def = showDef('big', 40, 100, { limits: { ...DEFAULT_LIMITS, maxSeatsPerHold: 2 } });
    await host.execute('big', { type: 'createShow', def });
    const labels = await host.read('big', (s) => seatLabels(s.seatMap).slice());
    const BOOKINGS = 2_000;
    await Promise.all(
      Array.from({ length: BOOKINGS }, async (_, i) => {
        await host.execute('big', { type: 'hold', holdId: `h${i}`, seats: [labels[2 * i], labels[2 * i + 1]] });
        await host.execute('big', { type: 'confirm', holdId: `h${i}`, bookingId: `b${i}` });
      }),
    );
    const before = await log.lastSeq('big');
    const reply = await host.execute('big', { type: 'cancelShow', reason: 'storm' });
    assert.equal(reply.type === 'cancelShow' && reply.refunds.length, BOOKINGS);
    await host.close();
    await log.close();

    log = await FileEventLog.open(logDir, opts);
    const entries = await collect(log, 'big', before);
    assert.equal(entries.length, 1, 'the cancellation is one entry');
    assert.equal(entries[0].events.length, BOOKINGS + 1);
    const rebuilt = await new ActorHost({
      log,
      snapshots: await FileSnapshotStore.open(join(logDir, 'none'), silentLogger),
      logger: silentLogger,
    }).load('big');
    assert.equal(rebuilt.state?.status, 'cancelled');
    assert.equal(rebuilt.state?.counts.available, 4_000);
    await log.close();
  });

  it('cancels a show with 150,000 bookings as one batch over many records, and brings every event back after a restart', {
    timeout: 240_000,
  }, async () => {
    const logDir = freshDir();
    let log = await FileEventLog.open(logDir, { logger: silentLogger });
    const BOOKINGS = 150_000;
    let host = new ActorHost({ log, snapshots: new MemorySnapshotStore(), logger: silentLogger });
    await host.execute('stadium', { type: 'createShow', def: showDef('stadium', 300, 500) });
    await host.execute('stadium', { type: 'hold', holdId: 'h0', seats: ['A-1'] });
    await host.execute('stadium', { type: 'confirm', holdId: 'h0', bookingId: 'b0' });
    await host.close();
    // The other bookings go straight to the log in ordinary batches, shaped like the first
    // (deciding 300,000 commands one by one would take minutes).
    const first = (await collect(log, 'stadium')).flatMap((e) => e.events);
    const held = first.find((e) => e.type === 'SeatsHeld') as Extract<ShowEvent, { type: 'SeatsHeld' }>;
    const booked = first.find((e) => e.type === 'BookingConfirmed') as Extract<ShowEvent, { type: 'BookingConfirmed' }>;
    let last = await log.lastSeq('stadium');
    let version = first.length;
    for (let from = 1; from < BOOKINGS; from += 5_000) {
      const events: ShowEvent[] = [];
      for (let i = from; i < Math.min(from + 5_000, BOOKINGS); i++)
        events.push({ ...held, holdId: `h${i}`, seats: [i] }, { ...booked, bookingId: `b${i}`, holdId: `h${i}`, seats: [i] });
      last = await log.append('stadium', { batchId: `fill-${from}`, firstVersion: version + 1, events }, last);
      version += events.length;
    }

    host = new ActorHost({ log, snapshots: new MemorySnapshotStore(), logger: silentLogger });
    assert.equal(await host.read('stadium', (st) => st.counts.booked), BOOKINGS);
    const reply = await host.execute('stadium', { type: 'cancelShow', reason: 'storm' });
    assert.equal(reply.type === 'cancelShow' && reply.refunds.length, BOOKINGS);
    await host.close();
    await log.close();

    log = await FileEventLog.open(logDir, { logger: silentLogger });
    const entries = await collect(log, 'stadium', last);
    assert.equal(entries.length, 1, 'the cancellation is one entry');
    assert.equal(entries[0].events.length, BOOKINGS + 1, 'every cancellation is back');
    assert.equal(new Set(entries[0].events.flatMap((e) => (e.type === 'BookingCancelled' ? [e.bookingId] : []))).size, BOOKINGS);
    assert.ok(JSON.stringify(entries[0].events).length > 8 * DEFAULT_RECORD_PAYLOAD_BYTES, 'the batch spans many records');
    const rebuilt = await new ActorHost({ log, snapshots: new MemorySnapshotStore(), logger: silentLogger }).load('stadium');
    assert.equal(rebuilt.state?.status, 'cancelled');
    assert.equal(rebuilt.state?.counts.available, BOOKINGS);
    await log.close();
  });
});
