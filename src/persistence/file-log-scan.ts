import type { FileHandle } from 'node:fs/promises';
import { announcedBodyLength, LOG_MAGIC, RECORD_HEADER_BYTES, verifyRecord, type RecordMeta } from './file-log-record.ts';

/** Bytes read per step while scanning; a longer record gets a buffer of its own. */
const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

export interface ScanResult {
  /** Offset just after the last good record: where the next append goes. */
  validEnd: number;
  records: number;
}

/**
 * Reads every record after the magic in order, checking lengths, checksums and that seqs
 * increase, and hands each good one to `onRecord`. Stops at the first record that is cut
 * short or does not verify; `validEnd` then marks where the trouble starts.
 */
export async function scanLog(
  fh: FileHandle,
  size: number,
  maxBodyBytes: number,
  onRecord: (meta: RecordMeta, offset: number, length: number) => void,
): Promise<ScanResult> {
  let buf = Buffer.alloc(0);
  let bufStart = 0;
  // The window [bufStart, bufStart + buf.length) of the file currently in memory.
  const ensure = async (pos: number, n: number): Promise<void> => {
    if (pos >= bufStart && pos + n <= bufStart + buf.length) return;
    const want = Math.min(Math.max(n, SCAN_CHUNK_BYTES), size - pos);
    const next = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(next, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    buf = next.subarray(0, got);
    bufStart = pos;
  };

  let pos = LOG_MAGIC.length;
  let records = 0;
  let lastSeq = 0;
  while (pos < size) {
    if (pos + RECORD_HEADER_BYTES > size) break;
    await ensure(pos, RECORD_HEADER_BYTES);
    const bodyLength = announcedBodyLength(buf, pos - bufStart, maxBodyBytes);
    if (bodyLength < 0) break;
    const length = RECORD_HEADER_BYTES + bodyLength;
    if (pos + length > size) break;
    await ensure(pos, length);
    const checked = verifyRecord(buf, pos - bufStart, bodyLength);
    if (!checked || checked.meta.seq <= lastSeq) break;
    lastSeq = checked.meta.seq;
    onRecord(checked.meta, pos, length);
    records++;
    pos += length;
  }
  return { validEnd: pos, records };
}
