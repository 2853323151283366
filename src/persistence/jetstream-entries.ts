import { promisify } from 'node:util';
import { gunzipSync, gzip, gzipSync } from 'node:zlib';
import type { MsgHdrs } from 'nats';
import type { ShowEvent } from '../actors/types.ts';
import { ErrorCode, SeatError } from '../errors.ts';
import type { LogEntry } from '../core/ports.ts';

/**
 * How one batch is stored on a show's JetStream subject: one message, or, when its events do
 * not fit one message even gzipped (the cancellation of a sold-out stadium), a group of
 * parts. Pure: encoding, splitting and reassembly; the I/O is in jetstream-event-log.ts.
 *
 * A group of n parts is n consecutive messages on the subject, appended one after another,
 * each fenced on the seq of the part before it (so nothing can come between them), with the
 * headers `Seats-Part: <i>/<n>` (0-based) and, from the second part on, `Seats-Part-Head:
 * <seq of part 0>`. Each part's payload is an ordinary stored batch (its own firstVersion).
 * Readers apply a group only when its last part is there; a group whose writer died or was
 * fenced out before the last part never applies, and the next writer appends after it.
 */

/** Stored form of one batch (or one part of it); the show id is the subject and the seq the stream sequence. */
export interface StoredBatch {
  batchId: string;
  firstVersion: number;
  events: ShowEvent[];
}

/**
 * Batches above this are gzipped: repetitive JSON shrinks about tenfold (one BookingCancelled
 * per booking: ~10,000 of them fill the 1 MiB default payload as plain JSON, ~57,000 gzipped).
 */
export const COMPRESS_ABOVE_BYTES = 64 * 1024;
const GZIP_MAGIC = [0x1f, 0x8b] as const;
const gzipAsync = promisify(gzip);

/** Room left in each message for its headers (message id, part, head), which count against the limit. */
export const PART_HEADER_ALLOWANCE_BYTES = 512;
export const PART_HEADER = 'Seats-Part';
export const PART_HEAD_HEADER = 'Seats-Part-Head';
/** Shows whose unfinished group one assembler remembers at most (a live follower sees every show). */
export const DEFAULT_MAX_PENDING_GROUPS = 1024;

export function encodeBatch(stored: StoredBatch): Buffer {
  const json = Buffer.from(JSON.stringify(stored), 'utf8');
  return json.length > COMPRESS_ABOVE_BYTES ? gzipSync(json) : json;
}

/**
 * The one plain message of a batch small enough to need neither compression nor parts (the
 * bytes `planParts` would make for it), or null. Synchronous: no planning steps for the
 * batch of a hold or two.
 */
export function encodeSmallBatch(stored: StoredBatch, budget: number): Buffer | null {
  if (stored.events.length > JSON_CHUNK_EVENTS) return null;
  // Key order as jsonOf writes it.
  const json = Buffer.from(JSON.stringify({ batchId: stored.batchId, firstVersion: stored.firstVersion, events: stored.events }), 'utf8');
  return json.length <= COMPRESS_ABOVE_BYTES && json.length <= budget ? json : null;
}

/** JSON never starts with 0x1f, so the gzip magic tells the two forms apart without a header. */
export function decodeBatch(data: Buffer): StoredBatch {
  const raw = data[0] === GZIP_MAGIC[0] && data[1] === GZIP_MAGIC[1] ? gunzipSync(data) : data;
  return JSON.parse(raw.toString('utf8')) as StoredBatch;
}

/** Raw JSON gzipped to learn how well a big batch shrinks before it is cut into parts. */
const SAMPLE_BYTES = 256 * 1024;
/** Parts are planned to fill this share of a message: the ratio of a sample is an estimate. */
const PLAN_FILL = 0.9;
/** Events turned into JSON between two points where the work may pause. */
const JSON_CHUNK_EVENTS = 4096;

/** What planning needs done: a buffer gzipped (and handed back), or a pause for other work. */
type PlanStep = { gzip: Buffer } | 'pause';

/** The stored form of events from..to-1 as JSON, made a chunk of events at a time. */
function* jsonOf(stored: StoredBatch, from: number, to: number): Generator<PlanStep, Buffer, unknown> {
  const pieces: string[] = [];
  for (let a = from; a < to; a += JSON_CHUNK_EVENTS) {
    const b = Math.min(to, a + JSON_CHUNK_EVENTS);
    pieces.push(JSON.stringify(stored.events.slice(a, b)).slice(1, -1));
    if (b < to) yield 'pause';
  }
  const text = `{"batchId":${JSON.stringify(stored.batchId)},"firstVersion":${stored.firstVersion + from},"events":[${pieces.join(',')}]}`;
  return Buffer.from(text, 'utf8');
}

function* gzipped(raw: Buffer): Generator<PlanStep, Buffer, Buffer> {
  return yield { gzip: raw };
}

/** encodeBatch of events from..to-1, as planning steps. */
function* encoded(stored: StoredBatch, from: number, to: number): Generator<PlanStep, Buffer, Buffer> {
  const raw = yield* jsonOf(stored, from, to);
  return raw.length > COMPRESS_ABOVE_BYTES ? yield* gzipped(raw) : raw;
}

/**
 * The payloads of a batch: one when it fits `maxMsgBytes`, else the fewest slices (by event
 * count, halved where a slice is still too big) that each fit. Refuses, with INVALID_ARGUMENT
 * naming the limit, a batch with one event too big for a message or needing more than
 * `maxParts` parts: splitting cannot help those, and retrying would fail the same way.
 *
 * Written as a generator of steps (gzip this, or pause), so the same plan runs with gzipSync
 * (planParts) or off the event loop (planPartsOffLoop). Each byte is compressed once: how
 * far a batch too big for one message shrinks is learnt from a sample, not by gzipping it
 * whole before cutting it.
 */
function* partsOf(stored: StoredBatch, maxMsgBytes: number, maxParts: number): Generator<PlanStep, Buffer[], Buffer> {
  const budget = maxMsgBytes - PART_HEADER_ALLOWANCE_BYTES;
  const events = stored.events;
  const raw = yield* jsonOf(stored, 0, events.length);
  let ratio = 1;
  if (raw.length <= COMPRESS_ABOVE_BYTES) {
    if (raw.length <= budget) return [raw];
  } else {
    const guess = raw.length > 2 * SAMPLE_BYTES ? (yield* gzipped(raw.subarray(0, SAMPLE_BYTES))).length / SAMPLE_BYTES : 0;
    if (raw.length * guess <= budget * PLAN_FILL) {
      const whole = yield* gzipped(raw);
      if (whole.length <= budget) return [whole];
      ratio = whole.length / raw.length;
    } else ratio = guess;
  }
  const parts: Buffer[] = [];
  function* pack(from: number, to: number): Generator<PlanStep, void, Buffer> {
    const data = yield* encoded(stored, from, to);
    if (data.length <= budget) {
      parts.push(data);
      if (parts.length > maxParts) throw tooManyParts(maxParts, maxMsgBytes);
      return;
    }
    if (to - from === 1)
      throw new SeatError(
        ErrorCode.INVALID_ARGUMENT,
        `one ${events[from].type} event takes ${data.length} bytes, more than the event log's ${budget}-byte message limit`,
      );
    const mid = from + Math.ceil((to - from) / 2);
    yield* pack(from, mid);
    yield* pack(mid, to);
  }
  // Slices shrink about as much as the whole; slices small enough to stay plain do not shrink.
  let slices = Math.ceil((raw.length * ratio) / (budget * PLAN_FILL));
  if (raw.length / slices <= COMPRESS_ABOVE_BYTES) slices = Math.ceil(raw.length / (budget * PLAN_FILL));
  slices = Math.min(slices, events.length);
  if (slices > maxParts) throw tooManyParts(maxParts, maxMsgBytes);
  for (let k = 0; k < slices; k++) yield* pack(Math.floor((k * events.length) / slices), Math.floor(((k + 1) * events.length) / slices));
  return parts;
}

/** partsOf on the calling thread. */
export function planParts(stored: StoredBatch, maxMsgBytes: number, maxParts: number): Buffer[] {
  const plan = partsOf(stored, maxMsgBytes, maxParts);
  for (let step = plan.next(); ; ) {
    if (step.done) return step.value;
    step = plan.next(step.value === 'pause' ? (undefined as unknown as Buffer) : gzipSync(step.value.gzip));
  }
}

/**
 * partsOf with gzip on libuv's thread pool and the JSON made a chunk at a time, the event loop
 * running in between: a stadium's cancellation is ten megabytes of JSON to write and compress,
 * which would otherwise stall heartbeats and every other show for as long as it takes.
 */
export async function planPartsOffLoop(stored: StoredBatch, maxMsgBytes: number, maxParts: number): Promise<Buffer[]> {
  const plan = partsOf(stored, maxMsgBytes, maxParts);
  for (let step = plan.next(); ; ) {
    if (step.done) return step.value;
    if (step.value === 'pause') {
      await new Promise((resolve) => setImmediate(resolve));
      step = plan.next(undefined as unknown as Buffer);
    } else step = plan.next(await gzipAsync(step.value.gzip));
  }
}

function tooManyParts(maxParts: number, maxMsgBytes: number): SeatError {
  return new SeatError(
    ErrorCode.INVALID_ARGUMENT,
    `the command's events need more than ${maxParts} event log messages of ${maxMsgBytes} bytes; split the command`,
  );
}

export interface PartInfo {
  /** 0-based. */
  index: number;
  count: number;
  /** Seq of part 0 (0 on part 0 itself). */
  head: number;
}

export function formatPart(index: number, count: number): string {
  return `${index}/${count}`;
}

/** The part headers of a message, or null for a whole batch. */
export function partOf(headers: MsgHdrs | undefined): PartInfo | null {
  const value = headers?.get(PART_HEADER);
  if (!value) return null;
  const [index, count] = value.split('/').map((n) => Number.parseInt(n, 10));
  if (!Number.isInteger(index) || !Number.isInteger(count) || index < 0 || count < 1 || index >= count) return null;
  const head = Number.parseInt(headers?.get(PART_HEAD_HEADER) ?? '0', 10) || 0;
  return { index, count, head };
}

interface PendingGroup {
  batchId: string;
  firstVersion: number;
  count: number;
  next: number;
  lastSeq: number;
  chunks: ShowEvent[][];
  events: number;
}

/**
 * Turns the messages of shows' subjects, in subject order, back into log entries. A whole
 * batch is an entry at once; a group's parts are held until the last one, then come out as
 * one entry at the last part's seq. A part that does not continue the held group of its show
 * (a new group, a whole batch, a missing head) drops the held one: its writer is gone.
 * Memory: at most one held group per show, and at most `maxPending` shows.
 */
export class EntryAssembler {
  private readonly pending = new Map<string, PendingGroup>();

  constructor(private readonly maxPending = DEFAULT_MAX_PENDING_GROUPS) {}

  push(showId: string, seq: number, stored: StoredBatch, part: PartInfo | null): LogEntry | null {
    const held = this.pending.get(showId);
    this.pending.delete(showId);
    if (!part) return { seq, showId, batchId: stored.batchId, firstVersion: stored.firstVersion, events: stored.events };
    let group: PendingGroup;
    if (part.index === 0) {
      group = {
        batchId: stored.batchId,
        firstVersion: stored.firstVersion,
        count: part.count,
        next: 0,
        lastSeq: seq,
        chunks: [],
        events: 0,
      };
    } else {
      const follows =
        held !== undefined &&
        held.batchId === stored.batchId &&
        held.count === part.count &&
        held.next === part.index &&
        held.firstVersion + held.events === stored.firstVersion;
      if (!follows) return null;
      group = held;
    }
    group.chunks.push(stored.events);
    group.events += stored.events.length;
    group.next++;
    group.lastSeq = seq;
    if (group.next === group.count) {
      const events = group.chunks.length === 1 ? group.chunks[0] : group.chunks.flat();
      return { seq, showId, batchId: group.batchId, firstVersion: group.firstVersion, events };
    }
    this.pending.set(showId, group);
    if (this.pending.size > this.maxPending) this.pending.delete(this.pending.keys().next().value as string);
    return null;
  }

  /** The show's held, unfinished group: where it ends and which version it would have started at. */
  unfinished(showId: string): { batchId: string; firstVersion: number; lastSeq: number } | null {
    const g = this.pending.get(showId);
    return g ? { batchId: g.batchId, firstVersion: g.firstVersion, lastSeq: g.lastSeq } : null;
  }

  forget(showId: string): void {
    this.pending.delete(showId);
  }
}
