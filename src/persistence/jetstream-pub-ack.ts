import { createInbox, headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from 'nats';

/**
 * JetStream publishes with their acknowledgements matched on one reply subscription of this
 * process's own, instead of the client's `js.publish`: per append, that one builds a request
 * object with its own timer, and after every acknowledgement it creates (and drops) a
 * "cancelled" error with a captured stack trace — together about a tenth of a durable
 * node's CPU on many small shows. The wire is the same: a message with the expectation
 * headers and a reply subject, answered by the stream with a PubAck.
 *
 * Timeouts are checked by one sweep for all waiters (at most `timeoutMs` + a sweep period
 * late), not a timer per append.
 *
 * Appends started in one turn of the event loop go out together at its end (setImmediate):
 * the client writes its socket once per microtask checkpoint, and on many small shows each
 * show's append starts in a callback of its own (a request read, an ack), so without this
 * every append is a write syscall of its own, and a read of its own for the server.
 */

export const EXPECTED_STREAM_HEADER = 'Nats-Expected-Stream';
export const EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER = 'Nats-Expected-Last-Subject-Sequence';
export const MSG_ID_HEADER = 'Nats-Msg-Id';

export interface PubAck {
  seq: number;
  duplicate: boolean;
}

/** Why an append was not acknowledged; `errCode` is JetStream's API error code when it said one. */
export class PubAckError extends Error {
  override name = 'PubAckError';
  constructor(
    message: string,
    readonly errCode?: number,
  ) {
    super(message);
  }
}

interface Waiter {
  resolve(ack: PubAck): void;
  reject(err: Error): void;
  deadline: number;
}

interface PubAckBody {
  seq?: number;
  duplicate?: boolean;
  error?: { code?: number; err_code?: number; description?: string };
}

/** The PubAck of a reply, or the error it stands for. Pure. */
export function parsePubAck(data: Uint8Array, status: { code: number; description: string } | null): PubAck | PubAckError {
  // No stream listens on the subject (503 "no responders"), or another status without a body.
  if (status && status.code >= 300) return new PubAckError(`publish not acknowledged: ${status.code} ${status.description}`.trim());
  let body: PubAckBody;
  try {
    body = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as PubAckBody;
  } catch {
    return new PubAckError('publish acknowledgement is not JSON');
  }
  if (body.error) return new PubAckError(body.error.description ?? `JetStream error ${body.error.code ?? ''}`, body.error.err_code);
  if (typeof body.seq !== 'number') return new PubAckError('publish acknowledgement without a sequence');
  return { seq: body.seq, duplicate: body.duplicate === true };
}

const HEADER_VALUE_BREAK = /[\r\n]/;

/** Sets an append's headers on `h` (which may carry others already, as a part's do). */
function setAppendHeaders(h: MsgHdrs, msgID: string, stream: string, lastSubjectSequence: number | undefined): MsgHdrs {
  h.set(MSG_ID_HEADER, msgID);
  h.set(EXPECTED_STREAM_HEADER, stream);
  if (lastSubjectSequence !== undefined) h.set(EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER, String(lastSubjectSequence));
  return h;
}

/**
 * The header block of a plain append (id, stream, expected sequence), encoded once as the
 * bytes `MsgHdrs.encode()` gives for the same three `set`s. The client's publish reads a
 * message's headers only through `encode()`, and building a `MsgHdrs` per append (a map, a
 * canonical-key check and a key search per `set`, then the string) was a visible share of a
 * durable node's CPU on many small shows. A value with a line break goes through `MsgHdrs`,
 * which refuses it as it always did.
 */
export function appendHeaders(msgID: string, stream: string, lastSubjectSequence?: number): MsgHdrs {
  if (HEADER_VALUE_BREAK.test(msgID) || HEADER_VALUE_BREAK.test(stream))
    return setAppendHeaders(natsHeaders(), msgID, stream, lastSubjectSequence);
  const last = lastSubjectSequence === undefined ? '' : `\r\n${EXPECTED_LAST_SUBJECT_SEQUENCE_HEADER}: ${lastSubjectSequence}`;
  const bytes = Buffer.from(`NATS/1.0\r\n${MSG_ID_HEADER}: ${msgID.trim()}\r\n${EXPECTED_STREAM_HEADER}: ${stream.trim()}${last}\r\n\r\n`);
  return { encode: () => bytes } as unknown as MsgHdrs;
}

export class PubAckMux {
  private readonly inbox: string;
  private readonly pending = new Map<string, Waiter>();
  private readonly sub: Subscription;
  private readonly sweep: NodeJS.Timeout;
  private next = 0;
  private closed = false;
  /** Publishes waiting for the end of this loop turn. */
  private queued: Array<{ subject: string; data: Uint8Array; reply: string; headers: MsgHdrs; token: string }> = [];

  constructor(
    private readonly nc: NatsConnection,
    sweepEveryMs = 250,
  ) {
    this.inbox = `${createInbox()}.`;
    this.sub = nc.subscribe(`${this.inbox}*`, { callback: (err, msg) => (err ? this.failAll(err) : this.onReply(msg)) });
    this.sweep = setInterval(() => this.expire(), sweepEveryMs).unref();
    void nc.closed().then(() => this.close());
  }

  /** Publishes `data` to `subject`, expecting the stream's name (and, when given, the subject's last sequence), deduplicated by `msgID`. */
  publish(
    subject: string,
    data: Uint8Array,
    opts: { msgID: string; stream: string; lastSubjectSequence?: number; timeoutMs: number; headers?: MsgHdrs },
  ): Promise<PubAck> {
    if (this.closed) return Promise.reject(new PubAckError('connection closed'));
    const token = (this.next++).toString(36);
    const h = opts.headers
      ? setAppendHeaders(opts.headers, opts.msgID, opts.stream, opts.lastSubjectSequence)
      : appendHeaders(opts.msgID, opts.stream, opts.lastSubjectSequence);
    return new Promise<PubAck>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, deadline: performance.now() + opts.timeoutMs });
      if (this.queued.length === 0) setImmediate(this.flush);
      this.queued.push({ subject, data, reply: this.inbox + token, headers: h, token });
    });
  }

  private readonly flush = (): void => {
    const queued = this.queued;
    this.queued = [];
    for (const q of queued) {
      const w = this.pending.get(q.token);
      if (!w) continue; // closed meanwhile
      try {
        this.nc.publish(q.subject, q.data, { reply: q.reply, headers: q.headers });
      } catch (err) {
        this.pending.delete(q.token);
        w.reject(err instanceof Error ? err : new PubAckError(String(err)));
      }
    }
  };

  private onReply(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length);
    const w = this.pending.get(token);
    if (!w) return; // timed out already
    this.pending.delete(token);
    const h = msg.headers;
    const ack = parsePubAck(msg.data, h && h.code !== 0 ? { code: h.code, description: h.description } : null);
    if (ack instanceof PubAckError) w.reject(ack);
    else w.resolve(ack);
  }

  private expire(): void {
    if (this.pending.size === 0) return;
    const now = performance.now();
    for (const [token, w] of this.pending)
      if (w.deadline <= now) {
        this.pending.delete(token);
        w.reject(new PubAckError('publish acknowledgement timed out'));
      }
  }

  private failAll(err: Error): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiting) w.reject(err);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweep);
    this.failAll(new PubAckError('connection closed'));
    if (!this.nc.isClosed()) this.sub.unsubscribe();
  }
}
