import { open, rename } from 'node:fs/promises';
import type { Logger } from '../logger.ts';
import { fsyncDir } from './file-atomic.ts';
import { LOG_MAGIC } from './file-log-record.ts';
import { findLaterGroup, scanSegment, type ScannedBatch } from './file-log-scan.ts';
import { listSegments, openSegment, segmentFileName, writeFully, type Segment } from './file-log-segments.ts';

/** How to name the offset to cut at in EVENT_LOG_TRUNCATE_AT. */
export const TRUNCATE_SETTING = 'EVENT_LOG_TRUNCATE_AT';
/** Bytes copied per step when saving a cut tail beside its segment. */
const COPY_CHUNK_BYTES = 4 * 1024 * 1024;

/** The log is damaged before its final write: opening it would silently drop acknowledged records. */
export class EventLogCorruptError extends Error {
  override name = 'EventLogCorruptError';
  readonly code = 'LOG_CORRUPT';
  constructor(
    message: string,
    /** The damaged segment file and the offset where its sound content ends (the cut point). */
    readonly file?: string,
    readonly offset?: number,
  ) {
    super(message);
  }
}

/** An explicit, operator-given permission to cut one damaged segment at one offset. */
export interface TruncatePermission {
  file: string;
  offset: number;
}

export interface RecoveryHandlers {
  onBatch(segment: number, batch: ScannedBatch): void;
  /** `first`: the checkpoint heads the oldest segment kept, so everything before it is gone. */
  onCheckpoint(seq: number, shows: Array<[string, number]>, first: boolean): void;
}

/**
 * Opens every segment of the log in `dir` in order and indexes it (through `handlers`).
 *
 * Only a torn final write group is cut: damage in the last segment with no whole record of
 * a later write group after it (the write that was in flight when the process or machine
 * died; nobody was told it committed). Any other damage refuses to open with a message that
 * names the file and offset and how to recover, unless `truncateAt` names exactly that
 * file and offset: then the bytes from there on are kept in `<segment>.cut-<offset>`, later
 * segments are renamed `*.cut`, and the log opens without them.
 */
export async function openSegments(
  dir: string,
  logger: Logger,
  handlers: RecoveryHandlers,
  truncateAt: TruncatePermission | undefined,
): Promise<{ segments: Segment[]; lastSeq: number }> {
  const numbers = await listSegments(dir);
  if (numbers.length === 0) return { segments: [await createSegment(dir, 1)], lastSeq: 0 };
  const segments: Segment[] = [];
  let lastSeq = 0;
  try {
    for (let k = 0; k < numbers.length; k++) {
      const seg = await openSegment(dir, numbers[k], 'r+');
      segments.push(seg);
      const isLast = k === numbers.length - 1;
      const size = (await seg.fh.stat()).size;
      const head = Buffer.alloc(Math.min(size, LOG_MAGIC.length));
      if (head.length) await seg.fh.read(head, 0, head.length, 0);
      if (!LOG_MAGIC.subarray(0, head.length).equals(head))
        throw new EventLogCorruptError(`${seg.path} is not an event log segment`, seg.name, 0);
      if (size < LOG_MAGIC.length) {
        // Cut short while its magic was being written: nothing in it was ever acknowledged.
        if (!isLast) throw new EventLogCorruptError(`${seg.path} is cut short before later segments`, seg.name, 0);
        await writeFully(seg.fh, LOG_MAGIC, 0);
        await seg.fh.datasync();
        seg.end = LOG_MAGIC.length;
        continue;
      }
      const scan = await scanSegment(seg.fh, size, lastSeq, {
        onBatch: (b) => {
          seg.batches++;
          handlers.onBatch(seg.n, b);
        },
        onCheckpoint: (seq, shows) => {
          seg.checkpointed = true;
          handlers.onCheckpoint(seq, shows, k === 0);
        },
      });
      lastSeq = scan.lastSeq;
      seg.end = scan.goodEnd;
      if (scan.goodEnd === size) continue;
      const later = isLast ? await findLaterGroup(seg.fh, size, scan.stoppedAt, scan.goodEnd) : null;
      if (isLast && later === null) {
        // A crash mid-write: that group was never acknowledged, so its bytes can go.
        await seg.fh.truncate(scan.goodEnd);
        await seg.fh.datasync();
        logger.warn({ file: seg.path, at: scan.goodEnd, droppedBytes: size - scan.goodEnd }, 'event log had a torn final write; cut it');
        continue;
      }
      const laterSegments = numbers.slice(k + 1);
      if (truncateAt?.file === seg.name && truncateAt.offset === scan.goodEnd) {
        await cutAt(dir, seg, size, laterSegments, logger);
        break;
      }
      const after = later !== null ? `a later write at byte ${later}` : `${laterSegments.length} later segment(s)`;
      throw new EventLogCorruptError(
        `event log file ${seg.path} is damaged at byte ${scan.stoppedAt} (sound up to byte ${scan.goodEnd}), and acknowledged ` +
          `records follow it (${after}); refusing to start rather than drop them. Restore DATA_DIR from a backup, or start ` +
          `once with ${TRUNCATE_SETTING}=${seg.name}:${scan.goodEnd} to cut the log at byte ${scan.goodEnd} of that file ` +
          `(the cut bytes are kept in ${seg.name}.cut-${scan.goodEnd}, later segments renamed *.cut; the shows whose ` +
          'records are cut lose them)',
        seg.name,
        scan.goodEnd,
      );
    }
  } catch (err) {
    await Promise.allSettled(segments.map((s) => s.fh.close()));
    throw err;
  }
  if (truncateAt && !segments.some((s) => s.name === truncateAt.file && s.end === truncateAt.offset))
    logger.warn({ truncateAt }, `${TRUNCATE_SETTING} is set but the log is not damaged there; nothing was cut (unset it)`);
  return { segments, lastSeq };
}

/** A new, empty segment (just its magic), durable before anything is written to it. */
export async function createSegment(dir: string, n: number): Promise<Segment> {
  const seg = await openSegment(dir, n, 'wx+');
  try {
    await writeFully(seg.fh, LOG_MAGIC, 0);
    await seg.fh.datasync();
    await fsyncDir(dir);
  } catch (err) {
    await seg.fh.close().catch(() => {});
    throw err;
  }
  seg.end = LOG_MAGIC.length;
  return seg;
}

async function cutAt(dir: string, seg: Segment, size: number, laterSegments: number[], logger: Logger): Promise<void> {
  const savedTo = `${seg.path}.cut-${seg.end}`;
  const out = await open(savedTo, 'w');
  try {
    const buf = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
    for (let pos = seg.end; pos < size; ) {
      const { bytesRead } = await seg.fh.read(buf, 0, Math.min(buf.length, size - pos), pos);
      if (bytesRead === 0) break;
      await writeFully(out, buf.subarray(0, bytesRead), pos - seg.end);
      pos += bytesRead;
    }
    await out.datasync();
  } finally {
    await out.close();
  }
  for (const n of laterSegments) await rename(`${dir}/${segmentFileName(n)}`, `${dir}/${segmentFileName(n)}.cut`);
  await seg.fh.truncate(seg.end);
  await seg.fh.datasync();
  await fsyncDir(dir);
  logger.warn(
    { file: seg.path, at: seg.end, cutBytes: size - seg.end, savedTo, laterSegments: laterSegments.length },
    'event log cut at the damage, as permitted',
  );
}
