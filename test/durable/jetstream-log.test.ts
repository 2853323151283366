import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { StorageType, nanos, type NatsConnection } from 'nats';
import type { ShowEvent } from '../../src/actors/types.ts';
import {
  DEFAULT_DUPLICATE_WINDOW_MS,
  JetStreamEventLog,
  showIdOfToken,
  subjectToken,
  versionBelow,
} from '../../src/persistence/jetstream-event-log.ts';
import type { LogEntry } from '../../src/core/ports.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { connectTestNats, deleteStream, eventually, testLogger } from './support.ts';

const skip = await needServices('nats');

const held = (i: number): ShowEvent => ({ type: 'HoldExpired', holdId: `h${i}`, seats: [i] });

async function collect(log: JetStreamEventLog, showId: string, afterSeq = 0): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of log.read(showId, afterSeq)) out.push(e);
  return out;
}

describe('subject tokens', () => {
  it('keep plain ids and round-trip every other id', () => {
    assert.equal(subjectToken('show-1_A'), 'show-1_A');
    for (const id of ['a.b', 'x*', '>', 'with space', 'Ünï🎭', '~tilde', '']) {
      const token = subjectToken(id);
      assert.match(token, /^~[A-Za-z0-9_-]*$/);
      assert.equal(showIdOfToken(token), id);
    }
  });

  it('compares server versions', () => {
    assert.equal(versionBelow('2.9.10', [2, 9, 15]), true);
    assert.equal(versionBelow('2.9.15', [2, 9, 15]), false);
    assert.equal(versionBelow('2.10.1', [2, 9, 15]), false);
    assert.equal(versionBelow('2.10.0-beta.1', [2, 9, 15]), false);
    assert.equal(versionBelow(undefined, [2, 9, 15]), true);
  });
});

describe('JetStreamEventLog', { skip }, () => {
  const id = uniqueName('jsl');
  const stream = `S_${id}`;
  const prefix = `${id}.events`;
  let nc: NatsConnection;
  let log: JetStreamEventLog;

  before(async () => {
    nc = await connectTestNats();
    log = await JetStreamEventLog.open(nc, { logger: testLogger, stream, subjectPrefix: prefix, maxMsgBytes: 64 * 1024 });
  });
  after(async () => {
    await log.close();
    await nc.close();
    await deleteStream(stream);
  });

  it('creates a file-backed stream with dedup window and message limit, and updates it on reopen', async () => {
    const jsm = await nc.jetstreamManager();
    let info = await jsm.streams.info(stream);
    assert.equal(info.config.storage, StorageType.File);
    assert.deepEqual(info.config.subjects, [`${prefix}.>`]);
    assert.equal(info.config.duplicate_window, nanos(DEFAULT_DUPLICATE_WINDOW_MS));
    assert.equal(info.config.max_msg_size, 64 * 1024);
    assert.equal(info.config.deny_delete, true);
    const again = await JetStreamEventLog.open(nc, {
      logger: testLogger,
      stream,
      subjectPrefix: prefix,
      maxMsgBytes: 32 * 1024,
      duplicateWindowMs: 60_000,
    });
    info = await jsm.streams.info(stream);
    assert.equal(info.config.max_msg_size, 32 * 1024);
    assert.equal(info.config.duplicate_window, nanos(60_000));
    await again.close();
    await JetStreamEventLog.open(nc, { logger: testLogger, stream, subjectPrefix: prefix, maxMsgBytes: 64 * 1024 });
  });

  it('writes a show on <prefix>.<showId> and reads odd show ids back', async () => {
    const plain = `p-${uniqueName('x')}`;
    const seq = await log.append(plain, { batchId: uniqueName('b'), firstVersion: 1, events: [held(1)] }, 0);
    const jsm = await nc.jetstreamManager();
    const m = await jsm.streams.getMessage(stream, { seq });
    assert.equal(m.subject, `${prefix}.${plain}`);
    const odd = `odd.${uniqueName('x')} *>`;
    const s2 = await log.append(odd, { batchId: uniqueName('b'), firstVersion: 1, events: [held(2)] }, 0);
    assert.deepEqual(
      (await collect(log, odd)).map((e) => [e.seq, e.showId]),
      [[s2, odd]],
    );
    const ids = await log.showIds();
    assert.ok(ids.includes(plain) && ids.includes(odd));
  });

  it('treats expected last seq 0 as "the show has no entries yet"', async () => {
    const show = uniqueName('new');
    const s1 = await log.append(show, { batchId: uniqueName('b'), firstVersion: 1, events: [held(1)] }, 0);
    await assert.rejects(log.append(show, { batchId: uniqueName('b'), firstVersion: 1, events: [held(1)] }, 0), { code: 'NOT_OWNER' });
    assert.equal(await log.lastSeq(show), s1);
  });

  it('splits a batch larger than a message into parts read back as one entry; refuses one event too big, without writing', async () => {
    const show = uniqueName('big');
    // Random ids: large batches are gzipped, so the test needs bytes that do not compress.
    const events: ShowEvent[] = Array.from({ length: 4000 }, (_, i) => ({
      type: 'HoldExpired',
      holdId: randomBytes(24).toString('base64url'),
      seats: [i],
    }));
    const seq = await log.append(show, { batchId: uniqueName('b'), firstVersion: 1, events }, 0);
    const entries = await collect(log, show, 0);
    assert.deepEqual(
      entries.map((e) => [e.seq, e.firstVersion, e.events.length]),
      [[seq, 1, 4000]],
    );
    assert.deepEqual(entries[0].events, events);
    const huge: ShowEvent[] = [{ type: 'HoldExpired', holdId: randomBytes(96 * 1024).toString('base64url'), seats: [1] }];
    await assert.rejects(log.append(show, { batchId: uniqueName('b'), firstVersion: 4001, events: huge }, seq), {
      code: 'INVALID_ARGUMENT',
    });
    assert.equal(await log.lastSeq(show), seq);
  });

  it('reads a long tail from the middle of an interleaved subject, both ways, and leaves no consumer', async () => {
    const show = uniqueName('tail');
    const other = uniqueName('other');
    let last = 0;
    let otherLast = 0;
    const seqs: number[] = [];
    for (let i = 1; i <= 300; i++) {
      last = await log.append(show, { batchId: uniqueName('b'), firstVersion: i, events: [held(i)] }, last);
      seqs.push(last);
      if (i % 2) otherLast = await log.append(other, { batchId: uniqueName('b'), firstVersion: (i + 1) / 2, events: [held(i)] }, otherLast);
    }
    const open = (readFromSubjectStart: boolean, directReadMaxGap: number) =>
      JetStreamEventLog.open(nc, {
        logger: testLogger,
        stream,
        subjectPrefix: prefix,
        maxMsgBytes: 64 * 1024,
        readFromSubjectStart,
        directReadMaxGap,
      });
    for (const reader of [await open(true, 0), await open(false, 0), await open(false, 10_000)]) {
      const tail = await collect(reader, show, seqs[99]);
      assert.deepEqual(
        tail.map((e) => e.seq),
        seqs.slice(100),
      );
      assert.deepEqual(
        tail.map((e) => e.firstVersion),
        seqs.slice(100).map((_, i) => 101 + i),
      );
      // A short tail, read by gets under the default gap.
      assert.deepEqual(
        (await collect(log, show, seqs[296])).map((e) => e.seq),
        seqs.slice(297),
      );
    }
    const jsm = await nc.jetstreamManager();
    await eventually(async () => (await jsm.consumers.list(stream).next()).length === 0, 5_000, 'read consumers to be deleted');
  });

  it('fails UNAVAILABLE, not NOT_OWNER, when the stream is gone', async () => {
    const id2 = uniqueName('gone');
    const nc2 = await connectTestNats();
    try {
      const gone = await JetStreamEventLog.open(nc2, {
        logger: testLogger,
        stream: `S_${id2}`,
        subjectPrefix: `${id2}.events`,
        publishTimeoutMs: 1_000,
      });
      await deleteStream(`S_${id2}`);
      await assert.rejects(gone.append('s', { batchId: uniqueName('b'), firstVersion: 1, events: [held(1)] }, 0), { code: 'UNAVAILABLE' });
      await assert.rejects(gone.lastSeq('s'), { code: 'UNAVAILABLE' });
    } finally {
      await nc2.close();
      await deleteStream(`S_${id2}`);
    }
  });
});
