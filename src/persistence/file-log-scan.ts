import type { FileHandle } from 'node:fs/promises';
import { announcedBodyLength, isCheckpoint, LOG_MAGIC, RECORD_HEADER_BYTES, verifyRecord, type BatchMeta } from './file-log-record.ts';

/** Bytes read per step while scanning; a longer record gets a buffer of its own. */
const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;
/** The first byte of every record body: the meta line is a JSON object. */
const OPEN_BRACE = 0x7b;

/** One whole batch found in a segment: where its records sit. */
export interface ScannedBatch {
  showId: string;
  seq: number;
  batchId: string;
  firstVersion: number;
  offset: number;
  length: number;
}

export interface ScanHandlers {
  onBatch(batch: ScannedBatch): void;
  onCheckpoint(seq: number, shows: Array<[string, number]>): void;
}

export interface SegmentScan {
  /** End of the last whole write group: the segment is sound up to here. */
  goodEnd: number;
  /** Where reading stopped: the segment's size when every group was whole. */
  stoppedAt: number;
  /** Highest seq seen in a whole group (or the one passed in). */
  lastSeq: number;
  batches: number;
}

/** A window over a file: `at(pos, n)` makes [pos, pos+n) readable in `buf` at `pos - start`. */
class FileWindow {
  buf = Buffer.alloc(0);
  start = 0;
  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
  ) {}

  async at(pos: number, n: number): Promise<void> {
    if (pos >= this.start && pos + n <= this.start + this.buf.length) return;
    const want = Math.min(Math.max(n, SCAN_CHUNK_BYTES), this.size - pos);
    const next = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(next, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    this.buf = next.subarray(0, got);
    this.start = pos;
  }
}

/**
 * Reads every record after the magic in order, checking lengths, checksums, that seqs
 * increase and that each write group is whole, and hands every batch and checkpoint of a
 * whole group to `handlers` (nothing of a group that is not whole). Stops at the first record
 * that is cut short, does not verify, or does not fit its group.
 */
export async function scanSegment(fh: FileHandle, size: number, seqBefore: number, handlers: ScanHandlers): Promise<SegmentScan> {
  const win = new FileWindow(fh, size);
  let pos = LOG_MAGIC.length;
  let goodEnd = pos;
  let lastSeq = seqBefore;
  let batches = 0;
  // The group being read: its batches and checkpoint payload wait until it is whole.
  let groupStart = -1;
  let groupNext = 0;
  let groupCount = 0;
  let groupBatches: ScannedBatch[] = [];
  let checkpoint: { seq: number; payload: Buffer[] } | null = null;
  let partial: { meta: BatchMeta; offset: number; next: number } | null = null;
  let groupSeq = lastSeq;

  const endGroup = (end: number): void => {
    for (const b of groupBatches) handlers.onBatch(b);
    batches += groupBatches.length;
    if (checkpoint)
      handlers.onCheckpoint(checkpoint.seq, JSON.parse(Buffer.concat(checkpoint.payload).toString('utf8')) as Array<[string, number]>);
    lastSeq = groupSeq;
    goodEnd = end;
    groupStart = -1;
    groupBatches = [];
    checkpoint = null;
  };

  while (pos + RECORD_HEADER_BYTES <= size) {
    await win.at(pos, RECORD_HEADER_BYTES);
    const bodyLength = announcedBodyLength(win.buf, pos - win.start);
    if (bodyLength < 0) break;
    const length = RECORD_HEADER_BYTES + bodyLength;
    if (pos + length > size) break;
    await win.at(pos, length);
    const checked = verifyRecord(win.buf, pos - win.start, bodyLength);
    if (!checked) break;
    const { meta, payload } = checked;
    const group = meta.group ?? [pos, 1, 0];
    if (groupStart < 0 ? group[0] !== pos || group[2] !== 0 : group[0] !== groupStart || group[2] !== groupNext || group[1] !== groupCount)
      break;
    if (isCheckpoint(meta)) {
      if (partial || (checkpoint && checkpoint.seq !== meta.checkpoint) || meta.checkpoint < groupSeq) break;
      checkpoint ??= { seq: meta.checkpoint, payload: [] };
      checkpoint.payload.push(Buffer.from(payload));
      groupSeq = meta.checkpoint;
    } else {
      const [part, parts] = meta.part ?? [0, 1];
      if (partial) {
        const p = partial.meta;
        if (part !== partial.next || meta.seq !== p.seq || meta.showId !== p.showId || meta.batchId !== p.batchId) break;
        partial.next++;
      } else {
        if (part !== 0 || meta.seq <= groupSeq) break;
        partial = { meta, offset: pos, next: 1 };
        groupSeq = meta.seq;
      }
      if (part === parts - 1) {
        const { showId, seq, batchId, firstVersion } = partial.meta;
        groupBatches.push({ showId, seq, batchId, firstVersion, offset: partial.offset, length: pos + length - partial.offset });
        partial = null;
      }
    }
    if (groupStart < 0) {
      groupStart = group[0];
      groupCount = group[1];
    }
    groupNext = group[2] + 1;
    pos += length;
    if (groupNext === group[1]) {
      if (partial) break;
      endGroup(pos);
    }
  }
  return { goodEnd, stoppedAt: pos, lastSeq, batches };
}

/**
 * Looks from `from` on for a record that verifies and belongs to a write group other than the
 * one starting at `tornGroupStart`: proof that the damage is not a torn final write but sits
 * under later, acknowledged records. Returns its offset, or null when there is none.
 * Used only when opening a damaged segment, so a byte-by-byte search is acceptable.
 */
export async function findLaterGroup(fh: FileHandle, size: number, from: number, tornGroupStart: number): Promise<number | null> {
  const win = new FileWindow(fh, size);
  for (let pos = from; pos + RECORD_HEADER_BYTES < size; pos++) {
    await win.at(pos, RECORD_HEADER_BYTES + 1);
    const at = pos - win.start;
    if (win.buf[at + RECORD_HEADER_BYTES] !== OPEN_BRACE) continue;
    const bodyLength = announcedBodyLength(win.buf, at);
    if (bodyLength < 0 || pos + RECORD_HEADER_BYTES + bodyLength > size) continue;
    await win.at(pos, RECORD_HEADER_BYTES + bodyLength);
    const checked = verifyRecord(win.buf, pos - win.start, bodyLength);
    if (!checked) continue;
    // A record of the torn group itself (its later pages landed, an earlier one did not).
    if (checked.meta.group && checked.meta.group[0] === tornGroupStart) {
      pos += RECORD_HEADER_BYTES + bodyLength - 1;
      continue;
    }
    return pos;
  }
  return null;
}
