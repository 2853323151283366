import type { ShowEvent } from '../actors/types.ts';
import { crc32 } from './file-checksum.ts';
import type { LogEntry } from '../core/ports.ts';

/**
 * On-disk format of one segment of the embedded event log (`events-000001.log`, …; the
 * single `events.log` of earlier versions reads as segment 0):
 *
 *   segment = MAGIC record*
 *   record  = u32be bodyLength | u32be crc32(body) | body
 *   body    = metaJSON "\n" payload
 *
 * Batch record: meta = {"showId","seq","batchId","firstVersion","group"?,"part"?}; the
 * payload is a slice of the UTF-8 JSON array of the batch's events. A batch whose JSON is
 * longer than one record takes several records (`part: [index, count]`, same seq), read back
 * by joining their payloads. Checkpoint record: meta = {"checkpoint": lastSeq, "group"}, the
 * payload a JSON array of [showId, lastSeq] pairs: every show's position when a segment was
 * started, so deleting older segments never loses a show's fencing position.
 *
 * `group: [start, count, index]`: the records written by one write+fdatasync. `start` is the
 * group's offset in the segment, `count` its records. Recovery keeps a group only whole, which
 * makes a multi-record batch all-or-nothing, and tells a torn final write (cut) from damage to
 * acknowledged records (refused). Records of the first format have no group: each is its own.
 *
 * The meta line comes first so opening the log can index every record without parsing its
 * events (JSON.stringify never emits a raw newline, so the first "\n" ends the meta).
 */
export const LOG_MAGIC = Buffer.from('SEATLOG\x01', 'latin1');
export const RECORD_HEADER_BYTES = 8;
/** Smallest body a valid record can have: rejects zero-filled tails (crc32 of nothing is 0). */
const MIN_BODY_BYTES = 16;
/**
 * Largest body any version ever wrote (the first format allowed one 16 MiB record per batch).
 * A header announcing more is damage.
 */
export const MAX_RECORD_BODY_BYTES = 16 * 1024 * 1024;
/** Room reserved for the meta line of one record when sizing write groups. */
export const META_ALLOWANCE_BYTES = 512;

/** [start offset in the segment, records in the group, this record's index]. */
export type GroupMark = [number, number, number];

export interface BatchMeta {
  showId: string;
  seq: number;
  batchId: string;
  firstVersion: number;
  group?: GroupMark;
  /** [index, count] when the batch spans several records. */
  part?: [number, number];
}

export interface CheckpointMeta {
  checkpoint: number;
  group: GroupMark;
}

export type RecordMeta = BatchMeta | CheckpointMeta;

export const isCheckpoint = (m: RecordMeta): m is CheckpointMeta => 'checkpoint' in m;

export function encodeRecord(meta: RecordMeta, payload: Uint8Array): Buffer {
  const head = Buffer.from(`${JSON.stringify(meta)}\n`, 'utf8');
  const bodyLength = head.length + payload.length;
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + bodyLength);
  record.writeUInt32BE(bodyLength, 0);
  head.copy(record, RECORD_HEADER_BYTES);
  record.set(payload, RECORD_HEADER_BYTES + head.length);
  record.writeUInt32BE(crc32(record.subarray(RECORD_HEADER_BYTES)), 4);
  return record;
}

/** Body length announced by the header at `at`, or -1 when it cannot be a record. */
export function announcedBodyLength(buf: Buffer, at: number): number {
  const len = buf.readUInt32BE(at);
  return len < MIN_BODY_BYTES || len > MAX_RECORD_BODY_BYTES ? -1 : len;
}

/**
 * The meta and payload of the record at `at` (whole record in `buf`), or null if the
 * checksum or meta is bad.
 */
export function verifyRecord(buf: Buffer, at: number, bodyLength: number): { meta: RecordMeta; payload: Buffer } | null {
  const bodyStart = at + RECORD_HEADER_BYTES;
  const body = buf.subarray(bodyStart, bodyStart + bodyLength);
  if (body.length !== bodyLength || crc32(body) !== buf.readUInt32BE(at + 4)) return null;
  const nl = body.indexOf(0x0a);
  if (nl < 0) return null;
  let meta: unknown;
  try {
    meta = JSON.parse(body.toString('utf8', 0, nl));
  } catch {
    return null;
  }
  return isMeta(meta) ? { meta, payload: body.subarray(nl + 1) } : null;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function isGroup(g: unknown): g is GroupMark {
  return Array.isArray(g) && g.length === 3 && g.every(isCount) && g[2] < g[1];
}

function isMeta(m: unknown): m is RecordMeta {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  if ('checkpoint' in r) return isCount(r.checkpoint) && isGroup(r.group);
  if (r.group !== undefined && !isGroup(r.group)) return false;
  if (r.part !== undefined) {
    const p = r.part;
    if (!Array.isArray(p) || p.length !== 2 || !p.every(isCount) || p[0] >= p[1]) return false;
  }
  return (
    typeof r.showId === 'string' &&
    typeof r.batchId === 'string' &&
    Number.isSafeInteger(r.seq) &&
    (r.seq as number) > 0 &&
    Number.isSafeInteger(r.firstVersion)
  );
}

/** Decodes the batch whose records fill buf[at, at + length); throws when any of them does not verify. */
export function decodeBatch(buf: Buffer, at: number, length: number): LogEntry {
  const payloads: Buffer[] = [];
  let first: BatchMeta | null = null;
  for (let pos = at; pos < at + length; ) {
    const bodyLength = buf.readUInt32BE(pos);
    const checked = pos + RECORD_HEADER_BYTES + bodyLength <= at + length ? verifyRecord(buf, pos, bodyLength) : null;
    if (!checked || isCheckpoint(checked.meta)) throw new Error(`event log record at buffer offset ${pos} failed its checksum`);
    first ??= checked.meta;
    payloads.push(checked.payload);
    pos += RECORD_HEADER_BYTES + bodyLength;
  }
  if (!first) throw new Error('empty event log batch');
  const events = JSON.parse((payloads.length === 1 ? payloads[0] : Buffer.concat(payloads)).toString('utf8')) as ShowEvent[];
  const { showId, seq, batchId, firstVersion } = first;
  return { seq, showId, batchId, firstVersion, events };
}
