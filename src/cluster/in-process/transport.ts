import { HOP_MSG } from '../hop-frames.ts';
import { TransportError, type ClusterTransport, type HopHeaders, type TransportMessage } from '../transport.ts';

/** NATS's default max_payload: the in-process limit unless a test lowers it. */
export const DEFAULT_IN_PROCESS_MAX_PAYLOAD_BYTES = 1024 * 1024;

interface Subscriber {
  conn: InProcessTransport;
  subject: string;
  queue: string | undefined;
  handler: (msg: TransportMessage) => void;
}

/** One message as the network saw it leave a connection (for assertions on packing and parts). */
export interface SentMessage {
  from: string;
  subject: string;
  bytes: number;
  parted: boolean;
  request: boolean;
}

/**
 * The message server of an in-process cluster: subjects, queue groups and request/reply with
 * NATS's semantics (at-most-once, per-sender order, "no responders" when nobody listens), and
 * faults a test switches on per connection:
 *
 * - `partition(name)`: nothing leaves or reaches that connection (its requests and requests to
 *   it time out), as a cut cable or a paused process;
 * - `delay(name, ms)`: every message to that connection arrives `ms` later;
 * - `dropNext(name, n)`: the next n messages to that connection are lost;
 * - closing a connection (a crashed process) removes its subscriptions: requests to its
 *   subjects get "no responders" at once.
 *
 * Delivery is asynchronous (a later turn of the event loop), as over a socket.
 */
export class InProcessNetwork {
  private readonly subs = new Map<string, Set<Subscriber>>();
  private readonly partitioned = new Set<string>();
  private readonly delays = new Map<string, number>();
  private readonly drops = new Map<string, number>();
  private readonly taps = new Set<(m: SentMessage) => void>();
  private inboxSeq = 0;
  /** Bytes one message may carry; publishing more throws, as nats.js does. */
  maxPayloadBytes: number;

  constructor(opts: { maxPayloadBytes?: number } = {}) {
    this.maxPayloadBytes = opts.maxPayloadBytes ?? DEFAULT_IN_PROCESS_MAX_PAYLOAD_BYTES;
  }

  /** A connection of the process `name`. */
  connect(name: string): InProcessTransport {
    return new InProcessTransport(this, name);
  }

  partition(name: string): void {
    this.partitioned.add(name);
  }
  heal(name: string): void {
    this.partitioned.delete(name);
    this.delays.delete(name);
    this.drops.delete(name);
  }
  delay(name: string, ms: number): void {
    this.delays.set(name, ms);
  }
  dropNext(name: string, n: number): void {
    this.drops.set(name, n);
  }

  /** Sees every message leaving a connection. Returns an unsubscribe. */
  tap(fn: (m: SentMessage) => void): () => void {
    this.taps.add(fn);
    return () => this.taps.delete(fn);
  }

  /** @internal */
  nextInbox(name: string): string {
    return `_INBOX.${name}.${++this.inboxSeq}`;
  }

  /** @internal */
  add(sub: Subscriber): () => void {
    let set = this.subs.get(sub.subject);
    if (!set) this.subs.set(sub.subject, (set = new Set()));
    set.add(sub);
    return () => {
      set.delete(sub);
      if (set.size === 0) this.subs.delete(sub.subject);
    };
  }

  /** @internal Removes every subscription of a closed connection. */
  removeAll(conn: InProcessTransport): void {
    for (const [subject, set] of this.subs) {
      for (const s of set) if (s.conn === conn) set.delete(s);
      if (set.size === 0) this.subs.delete(subject);
    }
  }

  /** @internal The receivers of a message: every plain subscriber, one member of each queue group. */
  receivers(subject: string): Subscriber[] {
    const set = this.subs.get(subject);
    if (!set) return [];
    const out: Subscriber[] = [];
    const groups = new Map<string, Subscriber[]>();
    for (const s of set) {
      if (s.queue === undefined) out.push(s);
      else {
        let g = groups.get(s.queue);
        if (!g) groups.set(s.queue, (g = []));
        g.push(s);
      }
    }
    for (const g of groups.values()) out.push(g[Math.floor(Math.random() * g.length)]);
    return out;
  }

  /** @internal */
  send(from: InProcessTransport, subject: string, data: Uint8Array, headers: HopHeaders | undefined, reply: string | undefined): void {
    if (data.length > this.maxPayloadBytes) throw new Error(`MAX_PAYLOAD_EXCEEDED: ${data.length} > ${this.maxPayloadBytes}`);
    for (const t of this.taps)
      t({ from: from.name, subject, bytes: data.length, parted: Boolean(headers?.get(HOP_MSG)), request: reply !== undefined });
    if (this.partitioned.has(from.name)) return;
    // A copy: the receiver must not see the sender's buffer change under it.
    const copy = data.slice();
    for (const s of this.receivers(subject)) {
      const to = s.conn.name;
      if (this.partitioned.has(to)) continue;
      const drop = this.drops.get(to) ?? 0;
      if (drop > 0) {
        this.drops.set(to, drop - 1);
        continue;
      }
      const msg: TransportMessage = {
        data: copy,
        headers,
        respond: (answer) => {
          if (reply === undefined || s.conn.closed) return false;
          this.send(s.conn, reply, answer, undefined, undefined);
          return true;
        },
      };
      const deliver = () => {
        // Still subscribed and reachable when it arrives.
        if (s.conn.closed || this.partitioned.has(to) || !this.subs.get(subject)?.has(s)) return;
        s.handler(msg);
      };
      const delay = this.delays.get(to) ?? 0;
      if (delay > 0) setTimeout(deliver, delay);
      else setImmediate(deliver);
    }
  }

  /** @internal */
  hasReceivers(subject: string): boolean {
    return (this.subs.get(subject)?.size ?? 0) > 0;
  }

  /** @internal */
  isPartitioned(name: string): boolean {
    return this.partitioned.has(name);
  }
}

/** One process's connection to an InProcessNetwork: the ClusterTransport a worker or gateway is given. */
export class InProcessTransport implements ClusterTransport {
  closed = false;

  constructor(
    private readonly network: InProcessNetwork,
    readonly name: string,
  ) {}

  maxPayload(): number {
    return this.network.maxPayloadBytes;
  }

  newInbox(): string {
    return this.network.nextInbox(this.name);
  }

  publish(subject: string, data: Uint8Array, headers?: HopHeaders): void {
    if (this.closed) throw new Error('CONNECTION_CLOSED');
    this.network.send(this, subject, data, headers, undefined);
  }

  request(subject: string, data: Uint8Array, opts: { timeoutMs: number; headers?: HopHeaders }): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('CONNECTION_CLOSED'));
    return new Promise((resolve, reject) => {
      const inbox = this.newInbox();
      let unsubscribe = () => {};
      const timer = setTimeout(
        () => {
          unsubscribe();
          reject(new TransportError('timeout', 'request timed out'));
        },
        Math.max(1, opts.timeoutMs),
      );
      unsubscribe = this.network.add({
        conn: this,
        subject: inbox,
        queue: undefined,
        handler: (msg) => {
          clearTimeout(timer);
          unsubscribe();
          resolve(msg.data);
        },
      });
      // NATS answers "no responders" when nobody listens; a partitioned sender cannot learn it and times out.
      if (!this.network.isPartitioned(this.name) && !this.network.hasReceivers(subject)) {
        clearTimeout(timer);
        unsubscribe();
        setImmediate(() => reject(new TransportError('no-responders', 'no responders')));
        return;
      }
      try {
        this.network.send(this, subject, data, opts.headers, inbox);
      } catch (err) {
        clearTimeout(timer);
        unsubscribe();
        reject(err);
      }
    });
  }

  subscribe(subject: string, handler: (msg: TransportMessage) => void, opts: { queue?: string } = {}): () => void {
    if (this.closed) throw new Error('CONNECTION_CLOSED');
    return this.network.add({ conn: this, subject, queue: opts.queue, handler });
  }

  async flush(): Promise<void> {
    if (this.closed) throw new Error('CONNECTION_CLOSED');
  }

  /** The process is gone: its subscriptions go with it. */
  close(): void {
    this.closed = true;
    this.network.removeAll(this);
  }
}
