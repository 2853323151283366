import { ErrorCode as NatsErrorCode, NatsError, createInbox, type Msg, type NatsConnection, type Subscription } from 'nats';
import { ErrorCode, SeatError, seatErrorFromJSON } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { hopParts, routedMessages, routedOps } from './cluster-metrics.ts';
import { FrameAssembler, frameLimit, sendFramed } from './hop-frames.ts';
import { HEAVY_METHODS, decodeJSON, decodeResults, encodeJSON, type Op, type OpAck, type OpRequest } from './wire.ts';

/** Request messages in flight to one owner before new ops wait to share the next one. */
export const DEFAULT_MAX_IN_FLIGHT_PER_OWNER = 8;
/** Bytes of unfinished parted results a gateway keeps at once. */
export const DEFAULT_RESULT_ASSEMBLY_MAX_BYTES = 256 * 1024 * 1024;

/** An op as the router hands it over: everything but the wire id, which the batcher assigns. */
export type OutgoingOp = Op extends infer O ? (O extends Op ? Omit<O, 'id'> : never) : never;

interface Pending {
  id: number;
  op: Op;
  heavy: boolean;
  timer: NodeJS.Timeout | undefined;
  /** The pack it left in, once sent. */
  pack: Pack | null;
  settled: boolean;
  resolve(value: unknown): void;
  reject(err: SeatError): void;
}

interface Pack {
  ops: Pending[];
  /** Ops of this pack not answered yet, and how many of them are light. */
  open: number;
  openLight: number;
  /** Whether the pack still counts against its owner's in-flight limit. */
  holdsSlot: boolean;
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
  nc: NatsConnection;
  /** Subject of a node's command endpoint. */
  subjectOf: (nodeId: string) => string;
  maxOps: number;
  maxInFlightPerOwner?: number;
  /** Caps a message below the server's max_payload (bytes); default: max_payload itself. */
  maxFrameBytes?: number;
  logger?: Logger;
}

/**
 * Packs ops bound for one owner into one NATS message, and routes each op's result back on
 * its own. An op waits at most until the next turn of the event loop (setImmediate) or
 * until its owner's pack reaches `maxOps`; when an owner already has `maxInFlightPerOwner`
 * packs out, new ops queue and leave with the next pack, so packs grow with load and a lone
 * op still goes out at once. A pack stops counting as in flight once only heavy ops (big
 * maps, show-wide commands) are left in it, so slow ops never hold the light ones back.
 *
 * The pack is a NATS request: the owner acknowledges it at once (or NATS answers "no
 * responders"); results arrive later on this batcher's inbox, under each op's id, in parts
 * when large. A pack larger than one message goes in parts too. Each op has its own timer.
 *
 * Transport failures map to retryable codes: no responders → UNAVAILABLE, no answer in
 * time → DEADLINE_EXCEEDED. One per gateway connection.
 */
export class OwnerBatcher {
  private readonly queues = new Map<string, OwnerQueue>();
  private readonly byId = new Map<number, Pending>();
  private readonly maxInFlight: number;
  private readonly inbox: string;
  private readonly sub: Subscription;
  private readonly assembler: FrameAssembler;
  private nextId = 1;

  constructor(private readonly opts: OwnerBatcherOptions) {
    this.maxInFlight = opts.maxInFlightPerOwner ?? DEFAULT_MAX_IN_FLIGHT_PER_OWNER;
    this.inbox = createInbox();
    this.assembler = new FrameAssembler({
      maxBytes: DEFAULT_RESULT_ASSEMBLY_MAX_BYTES,
      maxAgeMs: 120_000,
      onDrop: (msgId, reason) => opts.logger?.warn({ msgId, reason }, 'dropped an unfinished parted result'),
    });
    this.sub = opts.nc.subscribe(this.inbox, { callback: (err, msg) => (err ? opts.logger?.warn({ err }, 'result inbox failed') : this.onResults(msg)) });
  }

  send(owner: string, op: OutgoingOp, timeoutMs: number): Promise<unknown> {
    let q = this.queues.get(owner);
    if (!q) {
      q = { owner, subject: this.opts.subjectOf(owner), pending: [], inFlight: 0, sent: new Set(), scheduled: false };
      this.queues.set(owner, q);
    }
    const queue = q;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const finish = () => {
        p.settled = true;
        clearTimeout(p.timer);
        this.byId.delete(id);
        if (p.pack) this.closeOne(queue, p.pack, p.heavy);
      };
      const p: Pending = {
        id,
        op: { ...op, id, budgetMs: Math.max(1, Math.floor(timeoutMs)) } as Op,
        heavy: HEAVY_METHODS.has(op.method),
        timer: undefined,
        pack: null,
        settled: false,
        resolve: (value) => {
          if (!p.settled) finish(), resolve(value);
        },
        reject: (err) => {
          if (!p.settled) finish(), reject(err);
        },
      };
      p.timer = setTimeout(() => p.reject(new SeatError(ErrorCode.DEADLINE_EXCEEDED, 'owner did not answer in time')), Math.max(1, Math.ceil(timeoutMs)));
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
        p.reject(err);
      }
    q.pending = [];
    return n;
  }

  /** Stops listening for results; ops still waiting fail as unavailable. */
  close(): void {
    this.sub.unsubscribe();
    const err = new SeatError(ErrorCode.UNAVAILABLE, 'the gateway is closing');
    for (const p of [...this.byId.values()]) p.reject(err);
  }

  private flush(q: OwnerQueue): void {
    while (q.pending.length > 0 && q.inFlight < this.maxInFlight) {
      const ops = q.pending.splice(0, this.opts.maxOps).filter((p) => !p.settled);
      if (ops.length === 0) continue;
      const pack: Pack = { ops, open: ops.length, openLight: 0, holdsSlot: true };
      for (const p of ops) {
        p.pack = pack;
        if (!p.heavy) pack.openLight++;
      }
      q.inFlight++;
      q.sent.add(pack);
      this.request(q, pack);
      if (pack.openLight === 0) this.releaseSlot(q, pack);
    }
  }

  private closeOne(q: OwnerQueue, pack: Pack, heavy: boolean): void {
    pack.open--;
    if (!heavy) pack.openLight--;
    if (pack.open === 0) q.sent.delete(pack);
    if (pack.openLight === 0) this.releaseSlot(q, pack);
  }

  private releaseSlot(q: OwnerQueue, pack: Pack): void {
    if (!pack.holdsSlot) return;
    pack.holdsSlot = false;
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
    const limit = frameLimit(this.opts.nc, this.opts.maxFrameBytes);
    let ack: Promise<Msg>;
    try {
      ack = sendFramed(this.opts.nc, q.subject, data, limit, `${this.inbox}.${pack.ops[0].id}`, (payload, headers) => {
        if (headers) hopParts.labels('out').inc(Number(headers.get('Hop-Parts')));
        return this.opts.nc.request(q.subject, payload, { timeout: Math.max(1, Math.ceil(timeout)), ...(headers ? { headers } : {}) });
      });
    } catch (err) {
      ack = Promise.reject(err);
    }
    ack.then(
      (msg) => {
        try {
          const a = decodeJSON<OpAck>(msg.data, 'acknowledgement');
          if ('error' in a) this.failPack(pack, seatErrorFromJSON(a.error));
        } catch (err) {
          this.failPack(pack, new SeatError(ErrorCode.UNAVAILABLE, 'malformed acknowledgement', {}, { cause: err }));
        }
      },
      (err: unknown) => {
        // A timed-out acknowledgement leaves each op to its own timer: results may still come.
        if (err instanceof NatsError && err.code === NatsErrorCode.Timeout) return;
        this.failPack(pack, transportError(err));
      },
    );
  }

  private failPack(pack: Pack, err: SeatError): void {
    for (const p of pack.ops) p.reject(err);
  }

  private onResults(msg: Msg): void {
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
      if (r.ok) p.resolve(r.value);
      else p.reject(seatErrorFromJSON(r.error));
    }
  }
}

function transportError(err: unknown): SeatError {
  if (err instanceof SeatError) return err;
  if (err instanceof NatsError) {
    if (err.code === NatsErrorCode.NoResponders) return new SeatError(ErrorCode.UNAVAILABLE, 'owner not reachable', {}, { cause: err });
    if (err.code === NatsErrorCode.Timeout) return new SeatError(ErrorCode.DEADLINE_EXCEEDED, 'owner did not answer in time', {}, { cause: err });
  }
  return new SeatError(ErrorCode.UNAVAILABLE, 'routing failed', {}, { cause: err });
}
