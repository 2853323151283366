import type { NatsConnection } from 'nats';
import { ErrorCode, SeatError, seatErrorFromJSON } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Placement } from './placement.ts';
import { hopParts, routedMessages, routedOps } from './cluster-metrics.ts';
import { FrameAssembler } from './hop-frames.ts';
import { NatsTransport } from './nats-transport.ts';
import { TransportError, sendFramedOn, transportFrameLimit, type ClusterTransport, type TransportMessage } from './transport.ts';
import { HEAVY_METHODS, decodeJSON, decodeResults, encodeJSON, type Op, type OpAck, type OpRequest } from './wire.ts';

/** Request messages in flight to one owner before new ops wait to share the next one. */
export const DEFAULT_MAX_IN_FLIGHT_PER_OWNER = 8;
/** Bytes of unfinished parted results a gateway keeps at once. */
export const DEFAULT_RESULT_ASSEMBLY_MAX_BYTES = 256 * 1024 * 1024;
/** A parted result not complete after this long is dropped (longer than any op's budget). */
export const DEFAULT_RESULT_ASSEMBLY_MAX_AGE_MS = 120_000;

/** An op as the router hands it over: everything but the wire id, which the batcher assigns. */
export type OutgoingOp = Op extends infer O ? (O extends Op ? Omit<O, 'id'> : never) : never;

/** One op on its way. A class, not closures: the hot path allocates one object per op. */
class Pending {
  /** The pack it left in, once sent. */
  pack: Pack | null = null;
  /** Set once answered, so a late result after a timeout or `abandon` is ignored. */
  settled = false;
  /** performance.now() time after which it fails with DEADLINE_EXCEEDED (set when sent). */
  deadlineAt = Infinity;

  constructor(
    readonly op: Op,
    readonly heavy: boolean,
    readonly timeoutMs: number,
    readonly resolveFn: (value: unknown) => void,
    readonly rejectFn: (err: SeatError) => void,
  ) {}
}

interface Pack {
  queue: OwnerQueue;
  ops: Pending[];
  /** Ops of this pack not answered yet, and how many of them are light. */
  open: number;
  openLight: number;
  /** Whether the pack still counts against its owner's in-flight limit. */
  holdsSlot: boolean;
  /** One timer per pack fails its ops that outlive their deadline. */
  timer: NodeJS.Timeout | undefined;
}

interface OwnerQueue {
  owner: string;
  subject: string;
  pending: Pending[];
  inFlight: number;
  /** Packs sent with ops not answered yet, for `abandon`. */
  sent: Set<Pack>;
  scheduled: boolean;
}

export interface OwnerBatcherOptions {
  /** How packs reach owners; or `nc`, taken as a NatsTransport. */
  transport?: ClusterTransport;
  nc?: NatsConnection;
  /** Subject of a node's command endpoint. */
  subjectOf: (nodeId: string) => string;
  maxOps: number;
  maxInFlightPerOwner?: number;
  /** Caps a message below the server's max_payload (bytes); default: max_payload itself. */
  maxFrameBytes?: number;
  logger?: Logger;
}

/**
 * Packs ops bound for one owner into one message (ClusterTransport), and routes each op's result back on
 * its own. An op waits at most until the next turn of the event loop (setImmediate) or
 * until its owner's pack reaches `maxOps`; when an owner already has `maxInFlightPerOwner`
 * packs out, new ops queue and leave with the next pack, so packs grow with load and a lone
 * op still goes out at once. A pack stops counting as in flight once only heavy ops (big
 * maps, show-wide commands) are left in it, so slow ops never hold the light ones back.
 *
 * The pack is a NATS request: the owner acknowledges it at once (or NATS answers "no
 * responders"); results arrive later on this batcher's inbox, under each op's id, in parts
 * when large. A pack larger than one message goes in parts too. Each op has its own
 * deadline, checked by one timer per pack.
 *
 * Transport failures map to retryable codes: no responders → UNAVAILABLE, no answer in
 * time → DEADLINE_EXCEEDED. One per gateway connection.
 */
export class OwnerBatcher {
  private readonly queues = new Map<string, OwnerQueue>();
  private readonly byId = new Map<number, Pending>();
  private readonly maxInFlight: number;
  private readonly inbox: string;
  private readonly unsubscribe: () => void;
  private readonly transport: ClusterTransport;
  private readonly assembler: FrameAssembler;
  private nextId = 1;

  constructor(private readonly opts: OwnerBatcherOptions) {
    this.maxInFlight = opts.maxInFlightPerOwner ?? DEFAULT_MAX_IN_FLIGHT_PER_OWNER;
    this.transport = opts.transport ?? new NatsTransport(requireNc(opts.nc));
    this.inbox = this.transport.newInbox();
    this.assembler = new FrameAssembler({
      maxBytes: DEFAULT_RESULT_ASSEMBLY_MAX_BYTES,
      maxAgeMs: DEFAULT_RESULT_ASSEMBLY_MAX_AGE_MS,
      onDrop: (msgId, reason) => opts.logger?.warn({ msgId, reason }, 'dropped an unfinished parted result'),
    });
    this.unsubscribe = this.transport.subscribe(this.inbox, (msg) => this.onResults(msg), {
      onError: (err) => opts.logger?.warn({ err }, 'result inbox failed'),
    });
  }

  send(owner: string, op: OutgoingOp, timeoutMs: number): Promise<unknown> {
    let q = this.queues.get(owner);
    if (!q) {
      q = { owner, subject: this.opts.subjectOf(owner), pending: [], inFlight: 0, sent: new Set(), scheduled: false };
      this.queues.set(owner, q);
    }
    const queue = q;
    const id = this.nextId++;
    const budgetMs = Math.max(1, Math.floor(timeoutMs));
    return new Promise((resolve, reject) => {
      const p = new Pending({ ...op, id, budgetMs } as Op, HEAVY_METHODS.has(op.method), budgetMs, resolve, reject);
      this.byId.set(id, p);
      queue.pending.push(p);
      if (queue.pending.length >= this.opts.maxOps) this.flush(queue);
      else if (!queue.scheduled) {
        queue.scheduled = true;
        setImmediate(() => {
          queue.scheduled = false;
          this.flush(queue);
        });
      }
    });
  }

  private settle(p: Pending, ok: boolean, value: unknown): void {
    if (p.settled) return;
    p.settled = true;
    this.byId.delete(p.op.id);
    if (p.pack) this.closeOne(p.pack, p.heavy);
    if (ok) p.resolveFn(value);
    else p.rejectFn(value as SeatError);
  }

  /**
   * The ring dropped `owner`: every op waiting for it or in flight to it fails now with a
   * retryable UNAVAILABLE instead of waiting out its timeout, so the router re-routes it to
   * the new owner at once. Safe: mutations carry an idempotency key, so an op the dead node
   * did commit gets its first answer from the new owner (which rebuilt from the log).
   */
  abandon(owner: string): number {
    const q = this.queues.get(owner);
    if (!q) return 0;
    this.queues.delete(owner);
    const err = new SeatError(ErrorCode.UNAVAILABLE, 'owner left the ring');
    let n = 0;
    for (const ops of [q.pending, ...[...q.sent].map((pk) => pk.ops)])
      for (const p of ops) {
        if (!p.settled) n++;
        this.settle(p, false, err);
      }
    q.pending = [];
    return n;
  }

  /**
   * The connection dropped: results of ops sent before are lost (the inbox was not there to
   * take them), and ops still queued would sit in the client's buffer. Every op waiting fails
   * now with a retryable UNAVAILABLE; the router resends it, under its idempotency key, once
   * the connection is back. Returns how many failed.
   */
  failAll(reason: string): number {
    // No retryAfterSeconds: that would mark it as the owner's own answer, which the router does not resend.
    const err = new SeatError(ErrorCode.UNAVAILABLE, reason);
    const waiting = [...this.byId.values()];
    for (const p of waiting) this.settle(p, false, err);
    return waiting.length;
  }

  /** Stops listening for results; ops still waiting fail as unavailable. */
  close(): void {
    this.unsubscribe();
    const err = new SeatError(ErrorCode.UNAVAILABLE, 'the gateway is closing');
    for (const p of [...this.byId.values()]) this.settle(p, false, err);
  }

  private flush(q: OwnerQueue): void {
    while (q.pending.length > 0 && q.inFlight < this.maxInFlight) {
      const ops = q.pending.splice(0, this.opts.maxOps).filter((p) => !p.settled);
      if (ops.length === 0) continue;
      const pack: Pack = { queue: q, ops, open: ops.length, openLight: 0, holdsSlot: true, timer: undefined };
      const now = performance.now();
      let longest = 0;
      for (const p of ops) {
        p.pack = pack;
        p.deadlineAt = now + p.timeoutMs;
        longest = Math.max(longest, p.timeoutMs);
        if (!p.heavy) pack.openLight++;
      }
      q.inFlight++;
      q.sent.add(pack);
      pack.timer = setTimeout(() => this.expire(pack), Math.ceil(longest));
      this.request(q, pack);
      if (pack.openLight === 0) this.releaseSlot(pack);
    }
  }

  /** The pack's timer: ops past their deadline fail; the timer re-arms for any left. */
  private expire(pack: Pack): void {
    pack.timer = undefined;
    const now = performance.now();
    let next = Infinity;
    for (const p of pack.ops) {
      if (p.settled) continue;
      if (p.deadlineAt <= now + 1) this.settle(p, false, new SeatError(ErrorCode.DEADLINE_EXCEEDED, 'owner did not answer in time'));
      else next = Math.min(next, p.deadlineAt);
    }
    if (next !== Infinity && pack.open > 0) pack.timer = setTimeout(() => this.expire(pack), Math.ceil(next - now));
  }

  private closeOne(pack: Pack, heavy: boolean): void {
    pack.open--;
    if (!heavy) pack.openLight--;
    if (pack.open === 0) {
      pack.queue.sent.delete(pack);
      clearTimeout(pack.timer);
    }
    if (pack.openLight === 0) this.releaseSlot(pack);
  }

  private releaseSlot(pack: Pack): void {
    if (!pack.holdsSlot) return;
    pack.holdsSlot = false;
    const q = pack.queue;
    q.inFlight--;
    if (q.pending.length > 0 && !q.scheduled) {
      q.scheduled = true;
      setImmediate(() => {
        q.scheduled = false;
        this.flush(q);
      });
    }
  }

  private request(q: OwnerQueue, pack: Pack): void {
    routedMessages.inc();
    routedOps.inc(pack.ops.length);
    let timeout = 0;
    for (const p of pack.ops) timeout = Math.max(timeout, p.op.budgetMs ?? 0);
    const body: OpRequest = { inbox: this.inbox, ops: pack.ops.map((p) => p.op) };
    const data = encodeJSON(body);
    const limit = transportFrameLimit(this.transport, this.opts.maxFrameBytes);
    let ack: Promise<Uint8Array>;
    try {
      ack = sendFramedOn(this.transport, q.subject, data, limit, `${this.inbox}.${pack.ops[0].op.id}`, (payload, headers) => {
        if (headers) hopParts.labels('out').inc(Number(headers.get('Hop-Parts')));
        return this.transport.request(q.subject, payload, { timeoutMs: Math.max(1, Math.ceil(timeout)), ...(headers ? { headers } : {}) });
      });
    } catch (err) {
      ack = Promise.reject(err);
    }
    ack.then(
      (reply) => {
        try {
          const a = decodeJSON<OpAck>(reply, 'acknowledgement');
          if ('error' in a) this.failPack(pack, seatErrorFromJSON(a.error));
        } catch (err) {
          this.failPack(pack, new SeatError(ErrorCode.UNAVAILABLE, 'malformed acknowledgement', {}, { cause: err }));
        }
      },
      (err: unknown) => {
        // A timed-out acknowledgement leaves each op to its own timer: results may still come.
        if (err instanceof TransportError && err.failure === 'timeout') return;
        this.failPack(pack, transportError(err));
      },
    );
  }

  private failPack(pack: Pack, err: SeatError): void {
    for (const p of pack.ops) this.settle(p, false, err);
  }

  private onResults(msg: TransportMessage): void {
    if (msg.headers) hopParts.labels('in').inc();
    const whole = this.assembler.add(msg.headers, msg.data);
    if (whole === null) return;
    let results;
    try {
      results = decodeResults(whole);
    } catch (err) {
      this.opts.logger?.warn({ err }, 'dropped malformed results');
      return;
    }
    for (const r of results) {
      const p = this.byId.get(r.id);
      if (!p) continue; // timed out or abandoned already
      if (r.ok) this.settle(p, true, r.value);
      else this.settle(p, false, seatErrorFromJSON(r.error));
    }
  }
}

function transportError(err: unknown): SeatError {
  if (err instanceof SeatError) return err;
  if (err instanceof TransportError) {
    if (err.failure === 'no-responders') return new SeatError(ErrorCode.UNAVAILABLE, 'owner not reachable', {}, { cause: err });
    if (err.failure === 'timeout') return new SeatError(ErrorCode.DEADLINE_EXCEEDED, 'owner did not answer in time', {}, { cause: err });
  }
  return new SeatError(ErrorCode.UNAVAILABLE, 'routing failed', {}, { cause: err });
}

function requireNc(nc: NatsConnection | undefined): NatsConnection {
  if (!nc) throw new Error('OwnerBatcher needs a transport or a NATS connection');
  return nc;
}

/** Ops in flight to a worker the ring dropped are re-routed now, not after their timeout. Returns an unsubscribe. */
export function abandonDroppedOwners(placement: Placement, batcher: Pick<OwnerBatcher, 'abandon'>): () => void {
  return placement.onChange(({ before, after }) => {
    for (const node of before) if (!after.includes(node)) batcher.abandon(node);
  });
}
