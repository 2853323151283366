import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, open, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { FileEventLog } from '../../src/persistence/file-event-log.ts';
import type { EventLog, LogEntry } from '../../src/core/ports.ts';
import { silentLogger, tempDir } from './temp-dir.ts';
import { garble } from './file-damage.ts';

async function collect(log: EventLog, showId: string): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of log.read(showId, 0)) out.push(e);
  return out;
}

/** Appends `perShow` batches to each show, interleaved; returns the seqs per show. */
async function fill(log: EventLog, shows: string[], perShow: number): Promise<Map<string, number[]>> {
  const seqs = new Map<string, number[]>(shows.map((s) => [s, []]));
  for (let v = 1; v <= perShow; v++) {
    for (const show of shows) {
      const mine = seqs.get(show) as number[];
      mine.push(
        await log.append(
          show,
          { batchId: `${show}-${v}`, firstVersion: v, events: [{ type: 'HoldExpired', holdId: `h${v}`, seats: [v] }] },
          mine.at(-1) ?? 0,
        ),
      );
    }
  }
  return seqs;
}

/** Appends `count` more batches to one show, versions from `fromVersion`. */
async function fill2(log: EventLog, show: string, fromVersion: number, count: number): Promise<void> {
  let last = await log.lastSeq(show);
  for (let v = fromVersion; v < fromVersion + count; v++)
    last = await log.append(
      show,
      { batchId: `${show}-${v}`, firstVersion: v, events: [{ type: 'HoldExpired', holdId: `h${v}`, seats: [v] }] },
      last,
    );
}

const codeOf = (err: unknown): unknown => (err as { code?: unknown }).code;

describe('file event log: crashes and damage', () => {
  let dir: { path: string; remove(): Promise<void> };
  let n = 0;
  /** A fresh log directory; damage goes to its first segment. */
  const fresh = () => {
    const logDir = join(dir.path, `log-${++n}`);
    return { logDir, path: join(logDir, 'events-000001.log') };
  };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.remove());

  for (const [name, damage] of [
    ['cut short inside the last record', async (p: string) => truncate(p, (await stat(p)).size - 5)],
    ['its last bytes garbled', async (p: string) => garble(p, (await stat(p)).size - 3, 3)],
    ['a partial header after the last record', async (p: string) => writeAt(p, (await stat(p)).size, Buffer.from([0, 0, 1]))],
    [
      'zeros after the last record (size grew, data never landed)',
      async (p: string) => writeAt(p, (await stat(p)).size, Buffer.alloc(4096)),
    ],
  ] as const) {
    it(`recovers a torn tail: ${name}`, async () => {
      const { logDir, path } = fresh();
      let log = await FileEventLog.open(logDir, { logger: silentLogger });
      const before = await fill(log, ['a', 'b'], 5);
      await log.close();
      await damage(path);

      log = await FileEventLog.open(logDir, { logger: silentLogger });
      const lostLast = name.startsWith('cut') || name.startsWith('its');
      const expectB = lostLast ? (before.get('b') as number[]).slice(0, -1) : (before.get('b') as number[]);
      assert.deepEqual(
        (await collect(log, 'a')).map((e) => e.seq),
        before.get('a'),
      );
      assert.deepEqual(
        (await collect(log, 'b')).map((e) => e.seq),
        expectB,
      );
      // Usable: the writer that lost its unacknowledged append re-reads and continues.
      const next = await log.append('b', { batchId: 'after-crash', firstVersion: expectB.length + 1, events: [] }, expectB.at(-1) ?? 0);
      await log.close();
      log = await FileEventLog.open(logDir, { logger: silentLogger });
      assert.deepEqual(
        (await collect(log, 'b')).map((e) => e.seq),
        [...expectB, next],
      );
      await log.close();
    });
  }

  it('refuses to open when the damage is deeper than one write could tear', async () => {
    const { logDir, path } = fresh();
    const opts = { logger: silentLogger, maxGroupBytes: 2048 };
    const log = await FileEventLog.open(logDir, opts);
    await fill(log, ['a'], 40);
    await log.close();
    await garble(path, 20, 4);
    const size = (await stat(path)).size;
    await assert.rejects(FileEventLog.open(logDir, opts), (err) => codeOf(err) === 'LOG_CORRUPT');
    assert.equal((await stat(path)).size, size, 'the refused open cut nothing');
  });

  it('refuses to open when one byte flipped 101 records before the end, naming the file and offset', async () => {
    const { logDir, path } = fresh();
    const log = await FileEventLog.open(logDir, { logger: silentLogger });
    await fill(log, ['a'], 199);
    const damagedAt = (await stat(path)).size;
    await fill2(log, 'a', 200, 101);
    await log.close();
    await garble(path, damagedAt + 12, 1);
    const size = (await stat(path)).size;
    await assert.rejects(FileEventLog.open(logDir, { logger: silentLogger }), (err: Error) => {
      assert.equal(codeOf(err), 'LOG_CORRUPT');
      assert.match(err.message, new RegExp(`${basename(path)}.* ${damagedAt}\\b`));
      assert.match(err.message, /EVENT_LOG_TRUNCATE_AT/);
      return true;
    });
    assert.equal((await stat(path)).size, size, 'the refused open cut nothing');
  });

  it('refuses a file that is not an event log', async () => {
    const { logDir, path } = fresh();
    await mkdir(logDir);
    await writeFile(path, 'hello, world\n');
    await assert.rejects(FileEventLog.open(logDir, { logger: silentLogger }), (err) => codeOf(err) === 'LOG_CORRUPT');
  });

  it('writes appends arriving together with one write and one fsync', async () => {
    const log = await FileEventLog.open(fresh().logDir, { logger: silentLogger });
    const before = log.stats;
    const shows = Array.from({ length: 100 }, (_, i) => `g${i}`);
    await Promise.all(shows.map((s) => log.append(s, { batchId: s, firstVersion: 1, events: [] }, 0)));
    assert.equal(log.stats.appended - before.appended, 100);
    assert.equal(log.stats.groups - before.groups, 1);
    await log.close();
  });

  it('rolls back a failed write: callers get UNAVAILABLE, the log stays consistent and usable', async () => {
    const { logDir } = fresh();
    const log = await FileEventLog.open(logDir, { logger: silentLogger });
    const [s1] = (await fill(log, ['a'], 1)).get('a') as number[];
    // Fail one write after half of it reached the file, as a full disk would.
    const fh = (log as unknown as { active: { fh: { write: (...args: unknown[]) => Promise<unknown> } } }).active.fh;
    const realWrite = fh.write.bind(fh);
    fh.write = async (buf: unknown, offset: unknown, length: unknown, position: unknown) => {
      fh.write = realWrite;
      await realWrite(buf, offset, Math.floor((length as number) / 2), position);
      throw Object.assign(new Error('no space left'), { code: 'ENOSPC' });
    };
    const failed = await Promise.allSettled([
      log.append('a', { batchId: 'x1', firstVersion: 2, events: [] }, s1),
      log.append('b', { batchId: 'x2', firstVersion: 1, events: [] }, 0),
    ]);
    for (const r of failed) assert.equal(r.status === 'rejected' && codeOf(r.reason), 'UNAVAILABLE');
    assert.equal(await log.lastSeq('a'), s1);
    assert.equal(await log.lastSeq('b'), 0);
    // The same batches can be retried: they were not written, so they are not deduped.
    const s2 = await log.append('a', { batchId: 'x1', firstVersion: 2, events: [] }, s1);
    await log.close();
    const reopened = await FileEventLog.open(logDir, { logger: silentLogger });
    assert.deepEqual(
      (await collect(reopened, 'a')).map((e) => e.seq),
      [s1, s2],
    );
    assert.deepEqual(await collect(reopened, 'b'), []);
    await reopened.close();
  });

  it('keeps every acknowledged append when the process is killed mid-stream', async () => {
    const { logDir } = fresh();
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'append-loop.ts'), logDir, '8'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acked = new Map<string, number[]>();
    let count = 0;
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    for await (const line of createInterface({ input: child.stdout })) {
      const [show, seq] = line.split(' ');
      acked.set(show, [...(acked.get(show) ?? []), Number(seq)]);
      if (++count === 400) child.kill('SIGKILL');
    }
    assert.equal(await exited, 'SIGKILL');
    assert.ok(count >= 400);

    const log = await FileEventLog.open(logDir, { logger: silentLogger });
    try {
      for (const [show, seqs] of acked) {
        const stored = (await collect(log, show)).map((e) => e.seq);
        // The log may hold more than was acknowledged (written, killed before the ack), never less.
        assert.deepEqual(stored.slice(0, seqs.length), seqs, `every acknowledged seq of ${show} is there`);
        assert.ok(stored.length <= seqs.length + 1, 'at most the one unacknowledged in-flight append more');
      }
    } finally {
      await log.close();
    }
  });
});

async function writeAt(path: string, position: number, bytes: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(bytes, 0, bytes.length, position);
  } finally {
    await fh.close();
  }
}
