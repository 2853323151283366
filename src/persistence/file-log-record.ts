import type { ShowEvent } from '../actors/types.ts';
import { crc32 } from './file-checksum.ts';
import type { LogEntry } from './ports.ts';

/**
 * On-disk format of the embedded event log (`events.log`):
 *
 *   file   = MAGIC record*
 *   record = u32be bodyLength | u32be crc32(body) | body
 *   body   = metaJSON "\n" eventsJSON
 *   meta   = {"showId","seq","batchId","firstVersion"}
 *
 * The meta line comes first so opening the log can index every record without parsing its
 * events (JSON.stringify never emits a raw newline, so the first "\n" ends the meta).
 */
export const LOG_MAGIC = Buffer.from('SEATLOG\x01', 'latin1');
export const RECORD_HEADER_BYTES = 8;
/** Smallest body a valid record can have: rejects zero-filled tails (crc32 of nothing is 0). */
const MIN_BODY_BYTES = 16;

export interface RecordMeta {
  showId: string;
  seq: number;
  batchId: string;
  firstVersion: number;
}

export function encodeRecord(meta: RecordMeta, events: ShowEvent[]): Buffer {
  const body = Buffer.from(`${JSON.stringify(meta)}\n${JSON.stringify(events)}`, 'utf8');
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + body.length);
  record.writeUInt32BE(body.length, 0);
  record.writeUInt32BE(crc32(body), 4);
  body.copy(record, RECORD_HEADER_BYTES);
  return record;
}

/** Body length announced by the header at `at`, or -1 when it cannot be a record. */
export function announcedBodyLength(buf: Buffer, at: number, maxBodyBytes: number): number {
  const len = buf.readUInt32BE(at);
  return len < MIN_BODY_BYTES || len > maxBodyBytes ? -1 : len;
}

/** The meta of the record at `at` (whole record in `buf`), or null if the checksum or meta is bad. */
export function verifyRecord(buf: Buffer, at: number, bodyLength: number): { meta: RecordMeta; metaEnd: number } | null {
  const bodyStart = at + RECORD_HEADER_BYTES;
  const body = buf.subarray(bodyStart, bodyStart + bodyLength);
  if (crc32(body) !== buf.readUInt32BE(at + 4)) return null;
  const nl = body.indexOf(0x0a);
  if (nl < 0) return null;
  let meta: unknown;
  try {
    meta = JSON.parse(body.toString('utf8', 0, nl));
  } catch {
    return null;
  }
  return isMeta(meta) ? { meta, metaEnd: nl } : null;
}

/** Decodes a whole record already known to sit at `at` in `buf`; throws when it does not verify. */
export function decodeRecord(buf: Buffer, at: number): LogEntry {
  const bodyLength = buf.readUInt32BE(at);
  const checked = verifyRecord(buf, at, bodyLength);
  if (!checked) throw new Error(`event log record at buffer offset ${at} failed its checksum`);
  const bodyStart = at + RECORD_HEADER_BYTES;
  const events = JSON.parse(buf.toString('utf8', bodyStart + checked.metaEnd + 1, bodyStart + bodyLength)) as ShowEvent[];
  const { showId, seq, batchId, firstVersion } = checked.meta;
  return { seq, showId, batchId, firstVersion, events };
}

function isMeta(m: unknown): m is RecordMeta {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return (
    typeof r.showId === 'string' &&
    typeof r.batchId === 'string' &&
    Number.isSafeInteger(r.seq) &&
    (r.seq as number) > 0 &&
    Number.isSafeInteger(r.firstVersion)
  );
}
