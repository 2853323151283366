import { ErrorCode, NatsError, createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from 'nats';
import { TransportError } from './transport.ts';

/** The status the server puts on a body-less reply when nobody listens on the request's subject. */
const NO_RESPONDERS_STATUS = 503;

interface Waiter {
  resolve(data: Uint8Array): void;
  reject(err: Error): void;
  /** performance.now() time after which it fails with 'timeout'. */
  deadline: number;
}

/**
 * Requests with their replies matched on one reply subscription of this mux's own
 * (`<inbox>.*`, a token per request), instead of the client's `nc.request`: per request,
 * that one builds a request object with its own timer, and on every answer it creates (and
 * drops) an error with a captured stack trace. The wire is the same: a message with a reply
 * subject, answered by whoever serves the subject or, when nobody does, by the server with a
 * 503 status.
 *
 * One timer stays armed for the earliest deadline of all requests (re-armed only when a
 * request with an earlier one starts), so a timeout is on time and an answered request costs
 * no timer at all.
 *
 * Each request is published at once: the owner batcher already sends every owner's pack from
 * one callback per loop turn, and the client writes its socket once per microtask checkpoint,
 * so the packs of a turn leave in one write without a queue here (which would hold them a
 * further loop iteration).
 *
 * Settles every waiting request with a connection-closed error when the connection closes
 * (or the subscription fails); a closed mux refuses new requests, and its owner makes another.
 */
export class NatsRequestMux {
  private readonly inbox: string;
  private readonly pending = new Map<string, Waiter>();
  private readonly sub: Subscription;
  private timer: NodeJS.Timeout | undefined;
  /** The deadline the timer is armed for (Infinity: not armed). */
  private armedFor = Infinity;
  private next = 0;
  private stopped = false;

  constructor(private readonly nc: NatsConnection) {
    this.inbox = `${createInbox()}.`;
    this.sub = nc.subscribe(`${this.inbox}*`, {
      callback: (err, msg) => (err ? this.shutdown(err) : this.onReply(msg)),
    });
    void nc.closed().then(() => this.close());
  }

  get closed(): boolean {
    return this.stopped;
  }

  request(subject: string, data: Uint8Array, timeoutMs: number, headers?: MsgHdrs): Promise<Uint8Array> {
    if (this.stopped) return Promise.reject(connectionClosed());
    const token = (this.next++).toString(36);
    const deadline = performance.now() + Math.max(1, timeoutMs);
    return new Promise<Uint8Array>((resolve, reject) => {
      const reply = this.inbox + token;
      try {
        this.nc.publish(subject, data, headers ? { reply, headers } : { reply });
      } catch (err) {
        // A closed connection, a subject the client refuses, a payload over max_payload.
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.pending.set(token, { resolve, reject, deadline });
      if (deadline < this.armedFor) this.arm(deadline);
    });
  }

  private onReply(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length);
    const w = this.pending.get(token);
    if (!w) return; // timed out already, or a second answer
    this.pending.delete(token);
    const data = msg.data;
    // As the client does: only a 503 without a body is the server's; any other reply is the responder's.
    if (data.length === 0 && msg.headers?.code === NO_RESPONDERS_STATUS) w.reject(new TransportError('no-responders', 'no responders'));
    else w.resolve(data);
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.expire, Math.max(0, Math.ceil(at - performance.now()))).unref();
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    // A timer may fire up to a millisecond before the deadline it was set for.
    const now = performance.now() + 1;
    let earliest = Infinity;
    for (const [token, w] of this.pending) {
      if (w.deadline <= now) {
        this.pending.delete(token);
        w.reject(new TransportError('timeout', 'request timed out'));
      } else if (w.deadline < earliest) earliest = w.deadline;
    }
    if (earliest !== Infinity) this.arm(earliest);
  };

  private shutdown(err: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiting) w.reject(err);
    if (!this.nc.isClosed() && !this.sub.isClosed()) this.sub.unsubscribe();
  }

  /** Rejects every waiting request and stops listening for replies. */
  close(): void {
    this.shutdown(connectionClosed());
  }
}

/** The client's own error for a closed connection, as `nc.request` gave it. */
function connectionClosed(): NatsError {
  return NatsError.errorForCode(ErrorCode.ConnectionClosed);
}
