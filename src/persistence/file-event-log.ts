import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCode, SeatError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { fsyncDir } from './file-atomic.ts';
import { decodeRecord, encodeRecord, LOG_MAGIC, RECORD_HEADER_BYTES } from './file-log-record.ts';
import { scanLog } from './file-log-scan.ts';
import type { AppendBatch, EventLog, LogEntry } from './ports.ts';

/**
 * Most bytes written (and fsynced) at once. Also bounds what a crash can leave torn at the
 * tail: only the last, unacknowledged write can be partial, so at open a bad region longer
 * than this means damage to acknowledged records, and the log refuses to open.
 */
export const DEFAULT_MAX_GROUP_BYTES = 16 * 1024 * 1024;
/** How many of the most recent batch ids are remembered for dedup (JetStream keeps a time window). */
export const DEFAULT_DEDUP_WINDOW_BATCHES = 100_000;
/** Contiguous records of one show are read from disk in pieces of at most this size. */
const READ_CHUNK_BYTES = 1024 * 1024;

export interface FileEventLogOptions {
  logger: Logger;
  maxGroupBytes?: number;
  dedupWindowBatches?: number;
}

/** The log file is damaged before its tail: opening it would silently drop acknowledged records. */
export class EventLogCorruptError extends Error {
  override name = 'EventLogCorruptError';
  readonly code = 'LOG_CORRUPT';
}

/** Where one show's records sit in the file; parallel arrays keep this to ~24 bytes a record. */
class ShowIndex {
  readonly seqs: number[] = [];
  readonly offsets: number[] = [];
  readonly lengths: number[] = [];

  get last(): number {
    return this.seqs.length ? this.seqs[this.seqs.length - 1] : 0;
  }

  add(seq: number, offset: number, length: number): void {
    this.seqs.push(seq);
    this.offsets.push(offset);
    this.lengths.push(length);
  }

  /** Index of the first record with seq > afterSeq. */
  firstAfter(afterSeq: number): number {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid] <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

interface QueuedAppend {
  showId: string;
  seq: number;
  batchId: string;
  record: Buffer;
  resolve: (seq: number) => void;
  reject: (err: SeatError) => void;
}

/**
 * The embedded event log: one append-only file, one checksummed record per batch (format in
 * file-log-record.ts), seqs global across shows like a JetStream stream sequence.
 *
 * Appends from every show share one queue. While a write+fdatasync is in flight, new appends
 * gather; the next round writes them all with one write and one fdatasync (group commit), so
 * a thousand busy shows cost about one fsync per round, not one each. `append` resolves only
 * after its bytes are fsynced. The fencing check (expectedLastSeq) and the seq reservation
 * happen synchronously when `append` is called, against the last *reserved* seq of the show,
 * so of two racing writers exactly one wins even while the first is still in flight.
 *
 * An in-memory index (show → seq, offset, length) lets `read` fetch one show's records only.
 */
export class FileEventLog implements EventLog {
  private readonly shows = new Map<string, ShowIndex>();
  /** Recent committed batch ids → seq (insertion order = age, for the window). */
  private readonly dedup = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<number>>();
  /** Last reserved seq of shows with appends not yet committed. */
  private readonly reserved = new Map<string, number>();
  private queue: QueuedAppend[] = [];
  private flushing: Promise<void> | null = null;
  private committedSeq = 0;
  private nextSeq = 1;
  private failed: SeatError | null = null;
  private closed = false;
  private readonly counters = { appended: 0, groups: 0 };

  private constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
    /** Length of the file's verified, committed content. */
    private end: number,
    private readonly opts: Required<FileEventLogOptions>,
  ) {}

  static async open(path: string, options: FileEventLogOptions): Promise<FileEventLog> {
    const opts = {
      maxGroupBytes: DEFAULT_MAX_GROUP_BYTES,
      dedupWindowBatches: DEFAULT_DEDUP_WINDOW_BATCHES,
      ...options,
      logger: options.logger.child({ subsystem: 'event-log' }),
    };
    const started = Date.now();
    // Not 'a': positional writes are ignored in append mode on Linux.
    let fh: FileHandle;
    let created = false;
    try {
      fh = await open(path, 'r+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      fh = await open(path, 'wx+');
      created = true;
    }
    try {
      const size = (await fh.stat()).size;
      const log = new FileEventLog(fh, path, LOG_MAGIC.length, opts);
      if (size < LOG_MAGIC.length) await log.initialize(size, created);
      else await log.recover(size);
      opts.logger.info(
        { path, records: log.countRecords(), shows: log.shows.size, bytes: log.end, ms: Date.now() - started },
        'event log opened',
      );
      return log;
    } catch (err) {
      await fh.close().catch(() => {});
      throw err;
    }
  }

  /** A new file, or one cut short while its magic was being written (nothing was ever acknowledged). */
  private async initialize(size: number, created: boolean): Promise<void> {
    const head = Buffer.alloc(size);
    if (size) await this.fh.read(head, 0, size, 0);
    if (!LOG_MAGIC.subarray(0, size).equals(head)) throw new EventLogCorruptError(`${this.path} is not an event log`);
    await this.writeFully(LOG_MAGIC, 0);
    await this.fh.datasync();
    if (created) await fsyncDir(dirname(this.path));
  }

  private async recover(size: number): Promise<void> {
    const head = Buffer.alloc(LOG_MAGIC.length);
    await this.fh.read(head, 0, head.length, 0);
    if (!head.equals(LOG_MAGIC)) throw new EventLogCorruptError(`${this.path} is not an event log`);
    const { validEnd, records } = await scanLog(this.fh, size, this.opts.maxGroupBytes - RECORD_HEADER_BYTES, (meta, offset, length) => {
      this.indexRecord(meta.showId, meta.seq, meta.batchId, offset, length);
    });
    this.end = validEnd;
    this.nextSeq = this.committedSeq + 1;
    if (validEnd === size) return;
    const dropped = size - validEnd;
    if (dropped > this.opts.maxGroupBytes)
      throw new EventLogCorruptError(
        `${this.path} is damaged at byte ${validEnd} with ${dropped} bytes after it, more than one write can tear; ` +
          'refusing to drop acknowledged records (restore a backup, or truncate the file there by hand)',
      );
    // A crash mid-write: that append was never acknowledged, so its bytes can go.
    await this.fh.truncate(validEnd);
    await this.fh.datasync();
    this.opts.logger.warn({ path: this.path, recovered: records, droppedBytes: dropped, at: validEnd }, 'event log had a torn tail; truncated');
  }

  private countRecords(): number {
    let n = 0;
    for (const idx of this.shows.values()) n += idx.seqs.length;
    return n;
  }

  private indexRecord(showId: string, seq: number, batchId: string, offset: number, length: number): void {
    let idx = this.shows.get(showId);
    if (!idx) this.shows.set(showId, (idx = new ShowIndex()));
    idx.add(seq, offset, length);
    this.dedup.set(batchId, seq);
    if (this.dedup.size > this.opts.dedupWindowBatches) this.dedup.delete(this.dedup.keys().next().value as string);
    this.committedSeq = seq;
  }

  /** Not `async`: the dedup and fencing checks and the seq reservation must run at call time, in call order. */
  append(showId: string, batch: AppendBatch, expectedLastSeq: number): Promise<number> {
    if (this.closed) return Promise.reject(new SeatError(ErrorCode.UNAVAILABLE, 'event log closed'));
    if (this.failed) return Promise.reject(this.failed);
    const known = this.dedup.get(batch.batchId);
    if (known !== undefined) return Promise.resolve(known);
    const pending = this.inFlight.get(batch.batchId);
    if (pending) return pending;
    const last = this.reserved.get(showId) ?? this.shows.get(showId)?.last ?? 0;
    if (last !== expectedLastSeq)
      return Promise.reject(new SeatError(ErrorCode.NOT_OWNER, `log of ${showId} is at ${last}, writer expected ${expectedLastSeq}`));
    const seq = this.nextSeq;
    let record: Buffer;
    try {
      record = encodeRecord({ showId, seq, batchId: batch.batchId, firstVersion: batch.firstVersion }, batch.events);
    } catch (cause) {
      return Promise.reject(new SeatError(ErrorCode.INTERNAL, 'batch cannot be serialized', {}, { cause }));
    }
    if (record.length > this.opts.maxGroupBytes)
      return Promise.reject(new SeatError(ErrorCode.PAYLOAD_TOO_LARGE, `batch of ${record.length} bytes exceeds the log's limit`));
    this.nextSeq++;
    this.reserved.set(showId, seq);
    const promise = new Promise<number>((resolve, reject) => {
      this.queue.push({ showId, seq, batchId: batch.batchId, record, resolve, reject });
    });
    this.inFlight.set(batch.batchId, promise);
    this.flushing ??= this.flushLoop();
    return promise;
  }

  /**
   * Runs while the queue is non-empty. `flushing` is cleared inside, in the same step that
   * finds the queue empty, so an append can never slip in between and wait forever.
   */
  private async flushLoop(): Promise<void> {
    try {
      // Let appends made in this same tick (other actors' drains) join the first group.
      await null;
      // The emptiness check and the `finally` run in one synchronous step: no append can
      // slip in between, see `flushing` still set, and wait forever.
      while (this.queue.length) await this.flushGroup();
    } finally {
      this.flushing = null;
    }
  }

  private async flushGroup(): Promise<void> {
    if (this.failed) {
      this.rejectQueued([], this.failed);
      return;
    }
    const group = this.takeGroup();
    const bytes = group.length === 1 ? group[0].record : Buffer.concat(group.map((a) => a.record));
    const at = this.end;
    try {
      await this.writeFully(bytes, at);
      await this.fh.datasync();
    } catch (cause) {
      await this.writeFailed(group, at, cause);
      return;
    }
    this.end = at + bytes.length;
    let offset = at;
    for (const a of group) {
      this.indexRecord(a.showId, a.seq, a.batchId, offset, a.record.length);
      offset += a.record.length;
      this.inFlight.delete(a.batchId);
      if (this.reserved.get(a.showId) === a.seq) this.reserved.delete(a.showId);
    }
    this.counters.appended += group.length;
    this.counters.groups++;
    // Resolve only once the whole group is indexed, so a caller can read its own entry.
    for (const a of group) a.resolve(a.seq);
  }

  private takeGroup(): QueuedAppend[] {
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && (n === 0 || bytes + this.queue[n].record.length <= this.opts.maxGroupBytes))
      bytes += this.queue[n++].record.length;
    return this.queue.splice(0, n);
  }

  /**
   * A failed write may have left partial bytes at the end of the file. Cut them off before
   * anything else is written, or the next open would see them as damage in the middle and
   * the records after them would be lost. If even that fails, refuse all further appends.
   */
  private async writeFailed(group: QueuedAppend[], at: number, cause: unknown): Promise<void> {
    const err = new SeatError(ErrorCode.UNAVAILABLE, 'event log write failed', {}, { cause });
    this.rejectQueued(group, err);
    this.reserved.clear();
    this.nextSeq = this.committedSeq + 1;
    try {
      await this.fh.truncate(at);
      await this.fh.datasync();
      this.opts.logger.error({ err: cause, path: this.path }, 'event log write failed; rolled back');
    } catch (truncateErr) {
      this.failed = new SeatError(ErrorCode.UNAVAILABLE, 'event log unusable after a failed write', {}, { cause: truncateErr });
      this.opts.logger.fatal({ err: truncateErr, path: this.path }, 'event log could not roll back a failed write; appends refused until restart');
    }
  }

  private rejectQueued(group: QueuedAppend[], err: SeatError): void {
    const all = [...group, ...this.queue];
    this.queue = [];
    for (const a of all) {
      this.inFlight.delete(a.batchId);
      a.reject(err);
    }
  }

  private async writeFully(bytes: Buffer, position: number): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, done, bytes.length - done, position + done);
      done += bytesWritten;
    }
  }

  async *read(showId: string, afterSeq: number): AsyncIterable<LogEntry> {
    const idx = this.shows.get(showId);
    if (!idx) return;
    // The index only grows, so entries [i, n) stay valid while we read them.
    const n = idx.seqs.length;
    let i = idx.firstAfter(afterSeq);
    while (i < n) {
      const start = idx.offsets[i];
      let end = start + idx.lengths[i];
      let j = i + 1;
      while (j < n && idx.offsets[j] === end && end - start + idx.lengths[j] <= READ_CHUNK_BYTES) end += idx.lengths[j++];
      const buf = await this.readAt(start, end - start);
      let at = 0;
      for (let k = i; k < j; k++) {
        let entry: LogEntry;
        try {
          entry = decodeRecord(buf, at);
        } catch (cause) {
          throw new SeatError(ErrorCode.INTERNAL, `event log record ${idx.seqs[k]} of ${showId} is damaged`, {}, { cause });
        }
        if (entry.seq !== idx.seqs[k] || entry.showId !== showId)
          throw new SeatError(ErrorCode.INTERNAL, `event log index of ${showId} points at the wrong record`);
        yield entry;
        at += idx.lengths[k];
      }
      i = j;
    }
  }

  private async readAt(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    try {
      while (got < length) {
        const { bytesRead } = await this.fh.read(buf, got, length - got, position + got);
        if (bytesRead === 0) throw new Error(`unexpected end of ${this.path} at ${position + got}`);
        got += bytesRead;
      }
    } catch (cause) {
      throw new SeatError(ErrorCode.UNAVAILABLE, 'event log read failed', {}, { cause });
    }
    return buf;
  }

  /** Since open: batches appended and the write+fdatasync rounds they took (the group commit ratio). */
  get stats(): { appended: number; groups: number; bytes: number } {
    return { ...this.counters, bytes: this.end };
  }

  async lastSeq(showId: string): Promise<number> {
    return this.shows.get(showId)?.last ?? 0;
  }

  async showIds(): Promise<string[]> {
    return [...this.shows.keys()];
  }

  /** Appends already accepted are written first; later ones are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.fh.close();
  }
}
