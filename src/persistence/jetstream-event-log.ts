import {
  DeliverPolicy,
  DiscardPolicy,
  NatsError,
  headers as natsHeaders,
  RetentionPolicy,
  StorageType,
  nanos,
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type MsgHdrs,
  type MsgRequest,
  type NatsConnection,
  type StreamConfig,
} from 'nats';
import { ErrorCode, SeatError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { EVENTS_STREAM } from '../subjects.ts';
import {
  EntryAssembler,
  PART_HEADER,
  PART_HEADER_ALLOWANCE_BYTES,
  PART_HEAD_HEADER,
  decodeBatch,
  encodeSmallBatch,
  formatPart,
  partOf,
  planPartsOffLoop,
  type StoredBatch,
} from './jetstream-entries.ts';
import { PubAckError, PubAckMux } from './jetstream-pub-ack.ts';
import type { AppendBatch, LogEntry } from '../core/ports.ts';
import type { FollowableLog } from '../core/followable-log.ts';

export { COMPRESS_ABOVE_BYTES, decodeBatch, encodeBatch, type StoredBatch } from './jetstream-entries.ts';

/** Matches `eventSubject()` in subjects.ts: a show's events live on `<prefix>.<showId>`. */
export const DEFAULT_EVENT_SUBJECT_PREFIX = 'seats.events';
/** How long JetStream remembers a batch id (Nats-Msg-Id) to drop a retried append. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60_000;
/** Largest batch message; also capped by the server's max_payload. */
export const DEFAULT_MAX_MSG_BYTES = 1024 * 1024;

/** The event stream's configuration as this log creates it. Pure. */
export function eventStreamConfig(o: {
  name: string;
  subjectPrefix: string;
  maxMsgBytes: number;
  duplicateWindowMs: number;
  replicas: number;
}) {
  return {
    name: o.name,
    subjects: [`${o.subjectPrefix}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_msgs: -1,
    max_bytes: -1,
    max_age: 0,
    max_msg_size: o.maxMsgBytes,
    duplicate_window: nanos(o.duplicateWindowMs),
    num_replicas: o.replicas,
    // The log is the record of every sale: no single entry may be removed. Purging a show's
    // subject below a durable snapshot stays allowed (compaction, see purgeBelow).
    deny_delete: true,
    deny_purge: false,
  } satisfies Partial<StreamConfig>;
}
export const DEFAULT_PUBLISH_TIMEOUT_MS = 5_000;
/** A read that receives nothing for this long fails UNAVAILABLE instead of hanging. */
export const DEFAULT_READ_IDLE_TIMEOUT_MS = 10_000;
const READ_BATCH_MESSAGES = 1024;
/**
 * A tail spanning at most this many stream sequences is read with one get per entry
 * instead of a consumer: a few round trips beat creating and deleting a consumer, and the
 * cost stays bounded whatever the server version (the common tail after a crash is short).
 */
export const DEFAULT_DIRECT_READ_MAX_GAP = 64;
/**
 * Most messages one batch may be split into. A 200,000-seat cancellation takes 2-3; a batch
 * needing more than this (~64 MiB compressed) is refused with INVALID_ARGUMENT.
 */
export const DEFAULT_MAX_PARTS_PER_BATCH = 64;

/** JetStream API error codes this adapter tells apart. */
const JS_WRONG_LAST_SEQUENCE = 10071;
const JS_NO_MESSAGE_FOUND = 10037;
const JS_STREAM_NOT_FOUND = 10059;

export interface JetStreamEventLogOptions {
  logger: Logger;
  stream?: string | undefined;
  subjectPrefix?: string | undefined;
  duplicateWindowMs?: number;
  maxMsgBytes?: number;
  publishTimeoutMs?: number;
  readIdleTimeoutMs?: number;
  replicas?: number;
  /**
   * Read a show's tail by scanning its subject from the start and skipping entries up to
   * `afterSeq` client-side. nats-server < 2.9.15 recomputes a filtered consumer's pending
   * count on every message when it starts mid-subject (~160 µs/msg on an interleaved
   * stream: 1.6 s for a 10,000-entry tail), while a consumer that starts at or before the
   * subject's first message runs at ~5 µs/msg. 'auto' decides from the server's version.
   */
  readFromSubjectStart?: boolean | 'auto';
  /** See DEFAULT_DIRECT_READ_MAX_GAP; 0 always reads through a consumer. */
  directReadMaxGap?: number;
  /** See DEFAULT_MAX_PARTS_PER_BATCH. */
  maxPartsPerBatch?: number;
  /** Close (drain) the connection when the log closes. */
  ownsConnection?: boolean;
}

/** One message of a show's subject as read back. */
interface RawMessage {
  seq: number;
  data: Uint8Array;
  headers?: MsgHdrs | undefined;
}

const PLAIN_TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * Show ids become one subject token. Plain ids are used as they are, so subjects read
 * `seats.events.<showId>`; anything else (dots, wildcards, spaces, unicode) is base64url
 * behind a `~`, which no plain id contains.
 */
export function subjectToken(showId: string): string {
  return PLAIN_TOKEN.test(showId) ? showId : `~${Buffer.from(showId, 'utf8').toString('base64url')}`;
}

export function showIdOfToken(token: string): string {
  return token.startsWith('~') ? Buffer.from(token.slice(1), 'base64url').toString('utf8') : token;
}

function apiErrorCode(err: unknown): number | undefined {
  return err instanceof NatsError ? err.api_error?.err_code : undefined;
}

/** "2.9.10" < "2.9.15": the first three numeric parts, compared in order. */
export function versionBelow(version: string | undefined, min: [number, number, number]): boolean {
  if (!version) return true;
  const parts = version
    .split(/[.-]/)
    .slice(0, 3)
    .map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < 3; i++) if ((parts[i] ?? 0) !== min[i]) return (parts[i] ?? 0) < min[i];
  return false;
}

/**
 * The event log on one JetStream stream (file storage) holding every show: a show's
 * batches are the messages on `<prefix>.<showId>`, a batch's seq is its stream sequence.
 *
 * Fencing: every append carries `Nats-Expected-Last-Subject-Sequence` = the last seq the
 * writer applied. nats-server 2.9.10 checks the header whenever it is present, 0
 * included (a second first-append to a new show fails 10071 "wrong last sequence: N"),
 * and this client sets it for any number, 0 included; the conformance suite's "two
 * writers race on a new show" case pins that down. `Nats-Expected-Last-Subject-
 * Sequence-Subject` is not used (2.9 ignores it). Dedup: `Nats-Msg-Id` = the batch id;
 * the server answers a repeat inside the duplicate window with the first PubAck (marked
 * duplicate), and it checks dedup before the expected sequence, so a retried batch that
 * did land gets its seq back even though the subject moved on.
 *
 * Concurrency: any number of appends and reads may be in flight; the connection is
 * shared. Each append is its own request on the connection's shared reply inbox, so the
 * appends of many shows are in flight together and none waits for another show's PubAck
 * (only the parts of one split batch go one after another, each fenced on the one before).
 * Keep it so: no lock or queue across shows here. One writer per show is the caller's
 * business; JetStream enforces it.
 */
export class JetStreamEventLog implements FollowableLog {
  readonly stream: string;
  readonly subjectPrefix: string;
  private readonly js: JetStreamClient;
  private readonly maxMsgBytes: number;
  private readonly publishTimeoutMs: number;
  private readonly readIdleTimeoutMs: number;
  private readonly readFromSubjectStart: boolean;
  private readonly directReadMaxGap: number;
  private readonly maxPartsPerBatch: number;
  private readonly logger: Logger;
  private readonly acks: PubAckMux;
  private closed = false;
  private purgeDenied = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly opts: JetStreamEventLogOptions,
    maxMsgBytes: number,
  ) {
    this.stream = opts.stream ?? EVENTS_STREAM;
    this.subjectPrefix = opts.subjectPrefix ?? DEFAULT_EVENT_SUBJECT_PREFIX;
    this.js = nc.jetstream({ timeout: opts.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS });
    this.maxMsgBytes = maxMsgBytes;
    this.publishTimeoutMs = opts.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
    this.readIdleTimeoutMs = opts.readIdleTimeoutMs ?? DEFAULT_READ_IDLE_TIMEOUT_MS;
    const mode = opts.readFromSubjectStart ?? 'auto';
    this.readFromSubjectStart = mode === 'auto' ? versionBelow(nc.info?.version, [2, 9, 15]) : mode;
    this.directReadMaxGap = opts.directReadMaxGap ?? DEFAULT_DIRECT_READ_MAX_GAP;
    this.maxPartsPerBatch = opts.maxPartsPerBatch ?? DEFAULT_MAX_PARTS_PER_BATCH;
    this.logger = opts.logger.child({ subsystem: 'jetstream-log' });
    this.acks = new PubAckMux(nc);
  }

  /** Creates the stream, or updates its limits, and returns a log on it. */
  static async open(nc: NatsConnection, opts: JetStreamEventLogOptions): Promise<JetStreamEventLog> {
    const jsm = await nc.jetstreamManager();
    const maxPayload = nc.info?.max_payload ?? DEFAULT_MAX_MSG_BYTES;
    const maxMsgBytes = Math.min(opts.maxMsgBytes ?? DEFAULT_MAX_MSG_BYTES, maxPayload);
    const log = new JetStreamEventLog(nc, jsm, opts, maxMsgBytes);
    await log.ensureStream();
    log.logger.info(
      { stream: log.stream, subjects: `${log.subjectPrefix}.>`, server: nc.info?.version, readFromSubjectStart: log.readFromSubjectStart },
      'jetstream event log open',
    );
    return log;
  }

  private async ensureStream(): Promise<void> {
    const wanted = eventStreamConfig({
      name: this.stream,
      subjectPrefix: this.subjectPrefix,
      maxMsgBytes: this.maxMsgBytes,
      duplicateWindowMs: this.opts.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS,
      replicas: this.opts.replicas ?? 1,
    });
    for (let attempt = 0; ; attempt++) {
      try {
        const info = await this.jsm.streams.info(this.stream);
        const subjects = [...new Set([...(info.config.subjects ?? []), ...(wanted.subjects ?? [])])];
        const current = info.config;
        // A stream created by an earlier version denies purges, and NATS cannot lift that
        // flag on an existing stream: the log then keeps every entry (say so once, not per snapshot).
        this.purgeDenied = current.deny_purge === true;
        if (this.purgeDenied)
          this.logger.warn(
            { stream: this.stream },
            'the event stream denies purges (created by an earlier version, and NATS cannot lift that): the log keeps every entry instead of being compacted below snapshots',
          );
        if (
          subjects.length !== (current.subjects ?? []).length ||
          current.max_msg_size !== wanted.max_msg_size ||
          current.duplicate_window !== wanted.duplicate_window ||
          current.deny_delete !== true
        ) {
          await this.jsm.streams.update(this.stream, {
            subjects,
            max_msg_size: wanted.max_msg_size,
            duplicate_window: wanted.duplicate_window,
            deny_delete: true,
          });
          this.logger.info({ stream: this.stream }, 'stream limits updated');
        }
        return;
      } catch (err) {
        if (apiErrorCode(err) !== JS_STREAM_NOT_FOUND || attempt > 2) throw err;
      }
      try {
        await this.jsm.streams.add(wanted);
        this.logger.info({ stream: this.stream }, 'stream created');
        return;
      } catch (err) {
        // Another process created it first (a different config fails 10058): loop to update.
        if (attempt > 2) throw err;
      }
    }
  }

  subjectOf(showId: string): string {
    return `${this.subjectPrefix}.${subjectToken(showId)}`;
  }

  /**
   * Appends the batch as one message, or, when it does not fit one, as a group of parts
   * (log-entry-parts.ts): each part fenced on the seq of the one before, so the group is
   * contiguous on the show's subject and a writer fenced out mid-group leaves an unfinished
   * group that readers skip. Resolves with the seq of the last part, the position the next
   * append names. A batch that cannot be split to fit (one event larger than a message, or
   * more parts than maxPartsPerBatch) is refused with INVALID_ARGUMENT before anything is written.
   */
  async append(showId: string, batch: AppendBatch, expectedLastSeq: number): Promise<number> {
    const stored: StoredBatch = { batchId: batch.batchId, firstVersion: batch.firstVersion, events: batch.events };
    // The common batch (a few events) is one plain message, made at once.
    const small = encodeSmallBatch(stored, this.maxMsgBytes - PART_HEADER_ALLOWANCE_BYTES);
    if (small) return this.publish(showId, small, batch.batchId, expectedLastSeq);
    const parts = await planPartsOffLoop(stored, this.maxMsgBytes, this.maxPartsPerBatch);
    if (parts.length === 1) return this.publish(showId, parts[0], batch.batchId, expectedLastSeq);
    let last = expectedLastSeq;
    let head = 0;
    for (let i = 0; i < parts.length; i++) {
      const h = natsHeaders();
      h.set(PART_HEADER, formatPart(i, parts.length));
      if (i > 0) h.set(PART_HEAD_HEADER, String(head));
      last = await this.publish(showId, parts[i], `${batch.batchId}:${i}/${parts.length}`, last, h);
      if (i === 0) head = last;
    }
    this.logger.debug(
      { showId, batchId: batch.batchId, parts: parts.length, events: batch.events.length, seq: last },
      'batch appended in parts',
    );
    return last;
  }

  private async publish(showId: string, data: Buffer, msgID: string, expectedLastSeq: number, headers?: MsgHdrs): Promise<number> {
    try {
      const ack = await this.acks.publish(this.subjectOf(showId), data, {
        msgID,
        stream: this.stream,
        lastSubjectSequence: expectedLastSeq,
        timeoutMs: this.publishTimeoutMs,
        ...(headers ? { headers } : {}),
      });
      if (ack.duplicate) this.logger.debug({ showId, msgID, seq: ack.seq }, 'duplicate append');
      return ack.seq;
    } catch (err) {
      if ((err instanceof PubAckError ? err.errCode : apiErrorCode(err)) === JS_WRONG_LAST_SEQUENCE)
        throw new SeatError(ErrorCode.NOT_OWNER, `another writer appended to ${showId} after seq ${expectedLastSeq}`, {}, { cause: err });
      throw new SeatError(ErrorCode.UNAVAILABLE, 'event log append failed', {}, { cause: err });
    }
  }

  /**
   * Drops the show's messages below `seq` (a subject purge; the message at `seq` stays, so the
   * subject keeps its last sequence for fencing). Called once a snapshot at or after `seq` is
   * durable; readers that start from an older position then fail UNAVAILABLE (see read).
   */
  /** Whether entries below a snapshot can be purged (false on a stream that denies purges). */
  get compacts(): boolean {
    return !this.purgeDenied;
  }

  async purgeBelow(showId: string, seq: number): Promise<number> {
    if (seq <= 1 || this.purgeDenied) return 0;
    try {
      const r = await this.jsm.streams.purge(this.stream, { filter: this.subjectOf(showId), seq });
      return r.purged;
    } catch (err) {
      throw new SeatError(ErrorCode.UNAVAILABLE, 'event log purge failed', {}, { cause: err });
    }
  }

  async lastSeq(showId: string): Promise<number> {
    try {
      const m = await this.jsm.streams.getMessage(this.stream, { last_by_subj: this.subjectOf(showId) });
      return m.seq;
    } catch (err) {
      if (apiErrorCode(err) === JS_NO_MESSAGE_FOUND) return 0;
      throw new SeatError(ErrorCode.UNAVAILABLE, 'event log unavailable', {}, { cause: err });
    }
  }

  /**
   * Reads the show's entries after `afterSeq` up to its last entry at the time of the call:
   * a short tail by stream gets (`next_by_subj`), a longer one through an ordered consumer
   * filtered to the show's subject (deleted when done). The parts of a split batch come out
   * as one entry (the seq of its last part); an unfinished group at the end comes out as an
   * entry without events at its last part's seq, so the next append is fenced on it. Fails
   * UNAVAILABLE when the message at `afterSeq` was purged before or during the read: entries
   * after it may be gone, and the reader must start again from a newer snapshot. (A read from
   * 0 of a purged show starts at its oldest kept entry; the show's snapshot is where to start,
   * and ActorHost.load refuses an entry that does not continue from version 0.)
   */
  async *read(showId: string, afterSeq: number): AsyncIterable<LogEntry> {
    const last = await this.lastSeq(showId);
    if (last <= afterSeq) return;
    if (afterSeq > 0) await this.assertRetained(showId, afterSeq);
    let from = afterSeq;
    for (let restarts = 0; ; restarts++) {
      const restartAt = yield* this.readEntries(showId, from, last, restarts > 0);
      if (restartAt === null) break;
      from = restartAt;
    }
    if (afterSeq > 0) await this.assertRetained(showId, afterSeq);
  }

  /**
   * Entries after `from`; returns a position to read again from when `from` turns out to be
   * inside a group whose head lies before it (a reader earlier saw that group unfinished and
   * stopped at its last part, and the group was completed since).
   */
  private async *readEntries(showId: string, from: number, last: number, restarted: boolean): AsyncGenerator<LogEntry, number | null> {
    const assembler = new EntryAssembler();
    let first = true;
    for await (const m of this.rawMessages(showId, from, last)) {
      const stored = this.decode(showId, m);
      const part = partOf(m.headers);
      if (first && part && part.index > 0) {
        if (restarted || part.head <= 0 || part.head > from)
          throw new SeatError(ErrorCode.UNAVAILABLE, `log of ${showId} lacks the first part of the group at seq ${m.seq}`);
        return part.head - 1;
      }
      first = false;
      const entry = assembler.push(showId, m.seq, stored, part);
      if (entry) yield entry;
    }
    const unfinished = assembler.unfinished(showId);
    if (unfinished)
      yield { seq: unfinished.lastSeq, showId, batchId: unfinished.batchId, firstVersion: unfinished.firstVersion, events: [] };
    return null;
  }

  private async assertRetained(showId: string, seq: number): Promise<void> {
    try {
      await this.jsm.streams.getMessage(this.stream, { seq });
    } catch (err) {
      if (apiErrorCode(err) === JS_NO_MESSAGE_FOUND)
        throw new SeatError(
          ErrorCode.UNAVAILABLE,
          `log of ${showId} was compacted past seq ${seq}; start from a newer snapshot`,
          {},
          { cause: err },
        );
      throw new SeatError(ErrorCode.UNAVAILABLE, 'event log unavailable', {}, { cause: err });
    }
  }

  private async *rawMessages(showId: string, afterSeq: number, last: number): AsyncIterable<RawMessage> {
    const subject = this.subjectOf(showId);
    if (last - afterSeq <= this.directReadMaxGap) {
      yield* this.readByGets(subject, afterSeq, last);
      return;
    }
    let consumer: Consumer;
    let messages: ConsumerMessages;
    try {
      consumer = await this.js.consumers.get(this.stream, {
        filterSubjects: subject,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: this.readFromSubjectStart ? 1 : afterSeq + 1,
      });
      messages = await consumer.consume({ max_messages: READ_BATCH_MESSAGES });
    } catch (err) {
      throw new SeatError(ErrorCode.UNAVAILABLE, 'event log read failed', {}, { cause: err });
    }
    const it = messages[Symbol.asyncIterator]();
    try {
      for (;;) {
        const next = await this.nextWithin(it, showId);
        if (next.done) throw new SeatError(ErrorCode.UNAVAILABLE, 'event log read ended early');
        const m = next.value;
        if (m.seq > afterSeq) yield { seq: m.seq, data: m.data, headers: m.headers };
        if (m.seq >= last) return;
      }
    } finally {
      messages.stop();
      consumer.delete().catch(() => undefined);
    }
  }

  private async *readByGets(subject: string, afterSeq: number, last: number): AsyncIterable<RawMessage> {
    for (let seq = afterSeq + 1; seq <= last; ) {
      let m;
      try {
        // STREAM.MSG.GET with next_by_subj (server >= 2.9; the client's types lack it). Not the
        // direct-get API: that may be answered by a lagging replica, this by the stream leader.
        m = await this.jsm.streams.getMessage(this.stream, { seq, next_by_subj: subject } as unknown as MsgRequest);
      } catch (err) {
        throw new SeatError(ErrorCode.UNAVAILABLE, 'event log read failed', {}, { cause: err });
      }
      if (m.seq > last) return;
      yield { seq: m.seq, data: m.data, headers: m.header };
      seq = m.seq + 1;
    }
  }

  private async nextWithin(it: AsyncIterator<JsMsg>, showId: string): Promise<IteratorResult<JsMsg>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SeatError(ErrorCode.UNAVAILABLE, `event log read of ${showId} stalled for ${this.readIdleTimeoutMs} ms`)),
        this.readIdleTimeoutMs,
      );
    });
    try {
      return await Promise.race([it.next(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private decode(showId: string, m: RawMessage): StoredBatch {
    try {
      return decodeBatch(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
    } catch (err) {
      throw new SeatError(ErrorCode.INTERNAL, `log entry ${m.seq} of ${showId} is not valid JSON`, {}, { cause: err });
    }
  }

  async showIds(): Promise<string[]> {
    try {
      const info = await this.jsm.streams.info(this.stream, { subjects_filter: `${this.subjectPrefix}.>` });
      const cut = this.subjectPrefix.length + 1;
      return Object.keys(info.state.subjects ?? {}).map((s) => showIdOfToken(s.slice(cut)));
    } catch (err) {
      throw new SeatError(ErrorCode.UNAVAILABLE, 'event log unavailable', {}, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.acks.close();
    if (this.opts.ownsConnection && !this.nc.isClosed()) await this.nc.drain();
  }
}
