import { mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCode, SeatError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { fsyncDir } from './file-atomic.ts';
import { ShowIndex } from './file-log-index.ts';
import { decodeBatch, encodeRecord, LOG_MAGIC, META_ALLOWANCE_BYTES, RECORD_HEADER_BYTES, type BatchMeta } from './file-log-record.ts';
import { createSegment, openSegments, type TruncatePermission } from './file-log-recovery.ts';
import { writeFully, type Segment } from './file-log-segments.ts';
import type { AppendBatch, EventLog, LogEntry, PipelinedAppend } from '../core/ports.ts';

export { EventLogCorruptError } from './file-log-recovery.ts';

/** Most bytes of several batches written (and fsynced) at once; a bigger batch is written alone. */
export const DEFAULT_MAX_GROUP_BYTES = 16 * 1024 * 1024;
/** Most recent batch ids remembered for dedup, whatever their age (a backstop to the time window). */
export const DEFAULT_DEDUP_WINDOW_BATCHES = 100_000;
/**
 * How long a batch id is remembered for dedup: JetStream's default duplicate window. A retry
 * of an append comes within seconds; kept by count alone, a busy log would keep 100,000 ids
 * (~14 MB) for a quarter of an hour.
 */
export const DEFAULT_DEDUP_WINDOW_MS = 2 * 60_000;
/** A segment takes no new write group once it is this long (one group may overshoot it). */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** Event bytes per record: a batch with more takes several records, written as one group. */
export const DEFAULT_RECORD_PAYLOAD_BYTES = 1024 * 1024;
/** Contiguous records of one show are read from disk in pieces of at most this size. */
const READ_CHUNK_BYTES = 1024 * 1024;

export interface FileEventLogOptions {
  logger: Logger;
  maxGroupBytes?: number;
  dedupWindowBatches?: number;
  dedupWindowMs?: number;
  segmentBytes?: number;
  recordPayloadBytes?: number;
  /**
   * The log seq of each show's latest snapshot (0: none). With it, sealed segments whose
   * batches are all covered by their shows' snapshots are deleted (after each segment roll
   * and on `requestCompaction`). Without it nothing is ever deleted.
   */
  snapshotSeqOf?: (showId: string) => Promise<number>;
  /** Operator permission to cut one damaged segment at one offset (see file-log-recovery.ts). */
  truncateAt?: TruncatePermission;
}

type Options = Required<Omit<FileEventLogOptions, 'snapshotSeqOf' | 'truncateAt'>> & Pick<FileEventLogOptions, 'snapshotSeqOf'>;

interface QueuedAppend {
  showId: string;
  seq: number;
  batchId: string;
  firstVersion: number;
  /** The batch's events as UTF-8 JSON, sliced over `parts` records. */
  payload: Buffer;
  parts: number;
  resolve: (seq: number) => void;
  reject: (err: SeatError) => void;
}

/**
 * The embedded event log: a directory of append-only segment files of checksummed records
 * (format in file-log-record.ts), seqs global across shows like a JetStream stream sequence.
 *
 * Appends from every show share one queue. While a write+fdatasync is in flight, new appends
 * gather; the next round writes them all with one write and one fdatasync (group commit), so
 * a thousand busy shows cost about one fsync per round, not one each. `append` resolves only
 * after its bytes are fsynced. The fencing check (expectedLastSeq) and the seq reservation
 * happen synchronously when `append` is called, against the last *reserved* seq of the show,
 * so of two racing writers exactly one wins even while the first is still in flight. A batch
 * of any size commits: one too big for a record is split over several in the same group.
 *
 * When the active segment is full the log rolls to a new one, which starts with a checkpoint
 * of every show's position. A sealed segment is deleted once every show with batches in it
 * has a snapshot at or after them, and the in-memory index (show → segment, offset, length)
 * forgets those batches, so disk and memory stay flat however long the log runs.
 */
export class FileEventLog implements EventLog {
  private readonly shows = new Map<string, ShowIndex>();
  /** Recent committed batch ids → [seq, when indexed] (insertion order = age, for the window). */
  private readonly dedup = new Map<string, [number, number]>();
  private readonly inFlight = new Map<string, Promise<number>>();
  /** Last reserved seq of shows with appends not yet committed. */
  private readonly reserved = new Map<string, number>();
  /** Open segments by number, ascending; the last one takes the appends. */
  private readonly segments = new Map<number, Segment>();
  private active!: Segment;
  /** Readers in progress per first segment they need: compaction keeps those. */
  private readonly pins = new Map<number, number>();
  private queue: QueuedAppend[] = [];
  private flushing: Promise<void> | null = null;
  private compacting: Promise<unknown> | null = null;
  private compactAgain = false;
  private committedSeq = 0;
  private nextSeq = 1;
  private failed: SeatError | null = null;
  private closed = false;
  private readonly counters = { appended: 0, groups: 0, segmentsDeleted: 0 };

  private constructor(
    private readonly dir: string,
    private readonly opts: Options,
  ) {}

  /** Opens (or creates) the log in `dir`; an `events.log` of the first format there is read as its oldest segment. */
  static async open(dir: string, options: FileEventLogOptions): Promise<FileEventLog> {
    const { truncateAt, ...rest } = options;
    const opts: Options = {
      maxGroupBytes: DEFAULT_MAX_GROUP_BYTES,
      dedupWindowBatches: DEFAULT_DEDUP_WINDOW_BATCHES,
      dedupWindowMs: DEFAULT_DEDUP_WINDOW_MS,
      segmentBytes: DEFAULT_SEGMENT_BYTES,
      recordPayloadBytes: DEFAULT_RECORD_PAYLOAD_BYTES,
      ...rest,
      logger: options.logger.child({ subsystem: 'event-log' }),
    };
    const started = Date.now();
    const created = await mkdir(dir, { recursive: true });
    if (created !== undefined) await fsyncDir(dirname(created));
    const log = new FileEventLog(dir, opts);
    const { segments, lastSeq } = await openSegments(
      dir,
      opts.logger,
      {
        onBatch: (seg, b) => log.indexBatch(b.showId, b.seq, b.batchId, seg, b.offset, b.length),
        onCheckpoint: (seq, shows, first) => log.applyCheckpoint(seq, shows, first),
      },
      truncateAt,
    );
    for (const seg of segments) log.segments.set(seg.n, seg);
    log.active = segments[segments.length - 1];
    log.committedSeq = Math.max(log.committedSeq, lastSeq);
    log.nextSeq = log.committedSeq + 1;
    try {
      // A roll that crashed before its checkpoint landed: write it now, or older segments stay forever.
      if (segments.length > 1 && !log.active.checkpointed && log.active.end === LOG_MAGIC.length) await log.writeCheckpoint(log.active);
    } catch (err) {
      await log.close();
      throw err;
    }
    opts.logger.info({ dir, ...log.stats, shows: log.shows.size, ms: Date.now() - started }, 'event log opened');
    return log;
  }

  private showIndex(showId: string): ShowIndex {
    let idx = this.shows.get(showId);
    if (!idx) this.shows.set(showId, (idx = new ShowIndex()));
    return idx;
  }

  private indexBatch(showId: string, seq: number, batchId: string, seg: number, offset: number, length: number): void {
    this.showIndex(showId).add(seq, seg, offset, length);
    const now = Date.now();
    this.dedup.set(batchId, [seq, now]);
    const oldest = now - this.opts.dedupWindowMs;
    for (const [id, [, at]] of this.dedup) {
      if (at >= oldest && this.dedup.size <= this.opts.dedupWindowBatches) break;
      this.dedup.delete(id);
    }
    this.committedSeq = seq;
  }

  private applyCheckpoint(seq: number, shows: Array<[string, number]>, first: boolean): void {
    for (const [showId, last] of shows) {
      const idx = this.showIndex(showId);
      idx.last = Math.max(idx.last, last);
      // The oldest segment kept: everything before its checkpoint was deleted.
      if (first) idx.floor = Math.max(idx.floor, last);
    }
    this.committedSeq = Math.max(this.committedSeq, seq);
  }

  /** Not `async`: the dedup and fencing checks and the seq reservation must run at call time, in call order. */
  append(showId: string, batch: AppendBatch, expectedLastSeq: number): Promise<number> {
    return this.appendPipelined(showId, batch, expectedLastSeq).committed;
  }

  /**
   * The seq is reserved at call time, so it is known at once. A failed write fails its whole
   * group and everything queued behind it, and a later append fenced on a seq that was never
   * written finds the show's last seq rolled back: nothing lands on a seq that is not there.
   */
  appendPipelined(showId: string, batch: AppendBatch, expectedLastSeq: number): PipelinedAppend {
    const refused = (err: SeatError): PipelinedAppend => ({ seq: null, committed: Promise.reject(err) });
    if (this.closed) return refused(new SeatError(ErrorCode.UNAVAILABLE, 'event log closed'));
    if (this.failed) return refused(this.failed);
    const known = this.dedup.get(batch.batchId);
    if (known !== undefined) return { seq: known[0], committed: Promise.resolve(known[0]) };
    const pending = this.inFlight.get(batch.batchId);
    if (pending) return { seq: null, committed: pending };
    const last = this.reserved.get(showId) ?? this.shows.get(showId)?.last ?? 0;
    if (last !== expectedLastSeq)
      return refused(new SeatError(ErrorCode.NOT_OWNER, `log of ${showId} is at ${last}, writer expected ${expectedLastSeq}`));
    let payload: Buffer;
    try {
      payload = Buffer.from(JSON.stringify(batch.events), 'utf8');
    } catch (cause) {
      return refused(new SeatError(ErrorCode.INTERNAL, 'batch cannot be serialized', {}, { cause }));
    }
    const seq = this.nextSeq++;
    this.reserved.set(showId, seq);
    const parts = Math.max(1, Math.ceil(payload.length / this.opts.recordPayloadBytes));
    const promise = new Promise<number>((resolve, reject) => {
      this.queue.push({ showId, seq, batchId: batch.batchId, firstVersion: batch.firstVersion, payload, parts, resolve, reject });
    });
    this.inFlight.set(batch.batchId, promise);
    this.flushing ??= this.flushLoop();
    return { seq, committed: promise };
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
    let estimate = 0;
    for (const a of group) estimate += sizeEstimate(a);
    try {
      // A segment with no batch yet takes the group however big, or a checkpoint bigger than a segment would roll forever.
      if (this.active.batches > 0 && this.active.end + estimate > this.opts.segmentBytes) await this.roll();
    } catch (cause) {
      await this.writeFailed(group, this.active.end, cause);
      return;
    }
    const seg = this.active;
    const at = seg.end;
    const { bytes, spans } = this.encodeGroup(group, at);
    try {
      await writeFully(seg.fh, bytes, at);
      await seg.fh.datasync();
    } catch (cause) {
      await this.writeFailed(group, at, cause);
      return;
    }
    seg.end = at + bytes.length;
    seg.batches += group.length;
    group.forEach((a, i) => {
      this.indexBatch(a.showId, a.seq, a.batchId, seg.n, spans[i][0], spans[i][1]);
      this.inFlight.delete(a.batchId);
      if (this.reserved.get(a.showId) === a.seq) this.reserved.delete(a.showId);
    });
    this.counters.appended += group.length;
    this.counters.groups++;
    // Resolve only once the whole group is indexed, so a caller can read its own entry.
    for (const a of group) a.resolve(a.seq);
  }

  /** The group's records, each marked with the group (so recovery keeps it only whole), and each batch's span. */
  private encodeGroup(group: QueuedAppend[], at: number): { bytes: Buffer; spans: Array<[number, number]> } {
    const count = group.reduce((n, a) => n + a.parts, 0);
    const records: Buffer[] = [];
    const spans: Array<[number, number]> = [];
    const size = this.opts.recordPayloadBytes;
    let offset = at;
    for (const a of group) {
      const start = offset;
      for (let p = 0; p < a.parts; p++) {
        const meta: BatchMeta = {
          showId: a.showId,
          seq: a.seq,
          batchId: a.batchId,
          firstVersion: a.firstVersion,
          group: [at, count, records.length],
        };
        if (a.parts > 1) meta.part = [p, a.parts];
        const record = encodeRecord(meta, a.payload.subarray(p * size, (p + 1) * size));
        records.push(record);
        offset += record.length;
      }
      spans.push([start, offset - start]);
    }
    return { bytes: records.length === 1 ? records[0] : Buffer.concat(records), spans };
  }

  private takeGroup(): QueuedAppend[] {
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && (n === 0 || bytes + sizeEstimate(this.queue[n]) <= this.opts.maxGroupBytes))
      bytes += sizeEstimate(this.queue[n++]);
    return this.queue.splice(0, n);
  }

  /** Starts the next segment: its checkpoint first, durable, then it takes the appends. */
  private async roll(): Promise<void> {
    const seg = await createSegment(this.dir, this.active.n + 1);
    try {
      await this.writeCheckpoint(seg);
    } catch (err) {
      await seg.fh.close().catch(() => {});
      await unlink(seg.path).catch(() => {});
      throw err;
    }
    this.segments.set(seg.n, seg);
    this.active = seg;
    this.opts.logger.debug({ segment: seg.name }, 'event log rolled to a new segment');
    this.requestCompaction();
  }

  /** Every show's committed position, as one write group at the start of an empty segment. */
  private async writeCheckpoint(seg: Segment): Promise<void> {
    const pairs: Array<[string, number]> = [];
    for (const [showId, idx] of this.shows) if (idx.last > 0) pairs.push([showId, idx.last]);
    const payload = Buffer.from(JSON.stringify(pairs), 'utf8');
    const size = this.opts.recordPayloadBytes;
    const count = Math.max(1, Math.ceil(payload.length / size));
    const records = Array.from({ length: count }, (_, i) =>
      encodeRecord({ checkpoint: this.committedSeq, group: [seg.end, count, i] }, payload.subarray(i * size, (i + 1) * size)),
    );
    const bytes = Buffer.concat(records);
    await writeFully(seg.fh, bytes, seg.end);
    await seg.fh.datasync();
    seg.end += bytes.length;
    seg.checkpointed = true;
  }

  /**
   * A failed write may have left partial bytes at the end of the segment. Cut them off before
   * anything else is written, or the next open would see them as damage in the middle and
   * refuse. If even that fails, refuse all further appends.
   */
  private async writeFailed(group: QueuedAppend[], at: number, cause: unknown): Promise<void> {
    const err = new SeatError(ErrorCode.UNAVAILABLE, 'event log write failed', {}, { cause });
    this.rejectQueued(group, err);
    this.reserved.clear();
    this.nextSeq = this.committedSeq + 1;
    try {
      await this.active.fh.truncate(at);
      await this.active.fh.datasync();
      this.opts.logger.error({ err: cause, file: this.active.path }, 'event log write failed; rolled back');
    } catch (truncateErr) {
      this.failed = new SeatError(ErrorCode.UNAVAILABLE, 'event log unusable after a failed write', {}, { cause: truncateErr });
      this.opts.logger.fatal(
        { err: truncateErr, file: this.active.path },
        'event log could not roll back a failed write; appends refused until restart',
      );
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

  async *read(showId: string, afterSeq: number): AsyncIterable<LogEntry> {
    const idx = this.shows.get(showId);
    if (!idx) return;
    if (afterSeq < idx.floor)
      throw new SeatError(
        ErrorCode.INTERNAL,
        `entries of ${showId} up to seq ${idx.floor} were compacted into its snapshot; read after the snapshot's seq`,
      );
    // Compaction replaces these arrays instead of changing them, so [i, n) stays valid while we read.
    const { segs, seqs, offsets, lengths } = idx;
    const n = seqs.length;
    let i = idx.firstAfter(afterSeq);
    if (i >= n) return;
    const pinned = segs[i];
    this.pins.set(pinned, (this.pins.get(pinned) ?? 0) + 1);
    try {
      while (i < n) {
        const seg = this.segments.get(segs[i]);
        if (!seg) throw new SeatError(ErrorCode.INTERNAL, `event log segment ${segs[i]} of ${showId} is gone`);
        const start = offsets[i];
        let end = start + lengths[i];
        let j = i + 1;
        while (j < n && segs[j] === segs[i] && offsets[j] === end && end - start + lengths[j] <= READ_CHUNK_BYTES) end += lengths[j++];
        const buf = await this.readAt(seg, start, end - start);
        let at = 0;
        for (let k = i; k < j; k++) {
          let entry: LogEntry;
          try {
            entry = decodeBatch(buf, at, lengths[k]);
          } catch (cause) {
            throw new SeatError(ErrorCode.INTERNAL, `event log record ${seqs[k]} of ${showId} is damaged`, {}, { cause });
          }
          if (entry.seq !== seqs[k] || entry.showId !== showId)
            throw new SeatError(ErrorCode.INTERNAL, `event log index of ${showId} points at the wrong record`);
          yield entry;
          at += lengths[k];
        }
        i = j;
      }
    } finally {
      const left = (this.pins.get(pinned) ?? 1) - 1;
      if (left > 0) this.pins.set(pinned, left);
      else this.pins.delete(pinned);
    }
  }

  private async readAt(seg: Segment, position: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    try {
      while (got < length) {
        const { bytesRead } = await seg.fh.read(buf, got, length - got, position + got);
        if (bytesRead === 0) throw new Error(`unexpected end of ${seg.path} at ${position + got}`);
        got += bytesRead;
      }
    } catch (cause) {
      throw new SeatError(ErrorCode.UNAVAILABLE, 'event log read failed', {}, { cause });
    }
    return buf;
  }

  /** Runs a compaction soon (coalesced: one at a time, one more if asked meanwhile). Errors are logged. */
  requestCompaction(): void {
    if (!this.opts.snapshotSeqOf || this.closed) return;
    if (this.compacting) {
      this.compactAgain = true;
      return;
    }
    this.compacting = this.compact()
      .catch((err: unknown) => this.opts.logger.warn({ err }, 'event log compaction failed'))
      .finally(() => {
        this.compacting = null;
        if (this.compactAgain) {
          this.compactAgain = false;
          this.requestCompaction();
        }
      });
  }

  /** Waits for a compaction in progress (tests, shutdown). */
  async compacted(): Promise<void> {
    while (this.compacting) await this.compacting;
  }

  /**
   * Deletes the sealed segments below the oldest one still needed: the one holding the first
   * batch after some show's snapshot, or one a reader is reading. Only a segment that starts
   * with a checkpoint can become the oldest (it carries the positions of the deleted ones).
   */
  private async compact(): Promise<void> {
    const snapshotSeqOf = this.opts.snapshotSeqOf;
    if (!snapshotSeqOf) return;
    const numbers = [...this.segments.keys()].sort((a, b) => a - b);
    if (numbers.length < 2) return;
    let keepFrom = this.active.n;
    for (const [showId, idx] of this.shows) {
      if (idx.size === 0 || idx.segs[0] >= keepFrom) continue;
      const covered = await snapshotSeqOf(showId);
      const i = idx.firstAfter(covered);
      if (i < idx.size) keepFrom = Math.min(keepFrom, idx.segs[i]);
      if (keepFrom <= numbers[0]) return;
    }
    if (this.closed) return;
    // From here on nothing awaits until the index and the segment map agree again.
    for (const n of this.pins.keys()) keepFrom = Math.min(keepFrom, n);
    const current = [...this.segments.keys()].sort((a, b) => a - b);
    while (keepFrom > current[0] && !this.segments.get(keepFrom)?.checkpointed)
      keepFrom = current.filter((n) => n < keepFrom).at(-1) as number;
    const doomed = current.filter((n) => n < keepFrom).map((n) => this.segments.get(n) as Segment);
    if (doomed.length === 0) return;
    let batches = 0;
    for (const idx of this.shows.values()) batches += idx.dropBelow(keepFrom);
    for (const seg of doomed) this.segments.delete(seg.n);
    let bytes = 0;
    for (const seg of doomed) {
      bytes += seg.end;
      await seg.fh.close().catch(() => {});
      await unlink(seg.path);
    }
    await fsyncDir(this.dir);
    this.counters.segmentsDeleted += doomed.length;
    this.opts.logger.info({ segments: doomed.map((s) => s.name), bytes, batches }, 'event log compacted below the snapshots');
  }

  /**
   * Since open: batches appended and the write+fdatasync rounds they took (the group commit
   * ratio); now: bytes on disk, segments, and batches in the in-memory index.
   */
  get stats(): { appended: number; groups: number; bytes: number; segments: number; segmentsDeleted: number; indexedBatches: number } {
    let bytes = 0;
    for (const seg of this.segments.values()) bytes += seg.end;
    let indexedBatches = 0;
    for (const idx of this.shows.values()) indexedBatches += idx.size;
    return { ...this.counters, bytes, segments: this.segments.size, indexedBatches };
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
    await this.compacted();
    await Promise.allSettled([...this.segments.values()].map((s) => s.fh.close()));
  }
}

/** Bytes a queued batch takes on disk, about (its meta lines are not encoded yet). */
function sizeEstimate(a: QueuedAppend): number {
  return a.payload.length + a.parts * (RECORD_HEADER_BYTES + META_ALLOWANCE_BYTES);
}
