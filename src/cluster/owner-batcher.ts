import { ErrorCode as NatsErrorCode, NatsError, type NatsConnection } from 'nats';
import { ErrorCode, SeatError, seatErrorFromJSON } from '../errors.ts';
import { routedMessages, routedOps } from './cluster-metrics.ts';
import { decodeReply, encode, type Op } from './wire.ts';

/** Request messages in flight to one owner before new ops wait to share the next one. */
export const DEFAULT_MAX_IN_FLIGHT_PER_OWNER = 8;

interface Pending {
  op: Op;
  timeoutMs: number;
  /** Set once answered, so a late reply after `abandon` is ignored. */
  settled: boolean;
  resolve(value: unknown): void;
  reject(err: SeatError): void;
}

interface OwnerQueue {
  subject: string;
  pending: Pending[];
  inFlight: number;
  /** Packs sent and not yet answered, for `abandon`. */
  sent: Set<Pending[]>;
  scheduled: boolean;
}

export interface OwnerBatcherOptions {
  nc: NatsConnection;
  /** Subject of a node's command endpoint. */
  subjectOf: (nodeId: string) => string;
  maxOps: number;
  maxInFlightPerOwner?: number;
}

/**
 * Packs ops bound for one owner into one NATS request. An op waits at most until the next
 * turn of the event loop (setImmediate) or until its owner's pack reaches `maxOps`; when an
 * owner already has `maxInFlightPerOwner` requests out, new ops queue and leave with the next
 * reply, so packs grow with load and a lone op still goes out at once.
 *
 * Transport failures map to retryable codes: no responders → UNAVAILABLE, timeout →
 * DEADLINE_EXCEEDED. Not safe to share across NATS connections; one per gateway.
 */
export class OwnerBatcher {
  private readonly queues = new Map<string, OwnerQueue>();
  private readonly maxInFlight: number;

  constructor(private readonly opts: OwnerBatcherOptions) {
    this.maxInFlight = opts.maxInFlightPerOwner ?? DEFAULT_MAX_IN_FLIGHT_PER_OWNER;
  }

  send(owner: string, op: Op, timeoutMs: number): Promise<unknown> {
    let q = this.queues.get(owner);
    if (!q) {
      q = { subject: this.opts.subjectOf(owner), pending: [], inFlight: 0, sent: new Set(), scheduled: false };
      this.queues.set(owner, q);
    }
    const queue = q;
    return new Promise((resolve, reject) => {
      const p: Pending = {
        op,
        timeoutMs,
        settled: false,
        resolve: (value) => {
          if (!p.settled) (p.settled = true), resolve(value);
        },
        reject: (err) => {
          if (!p.settled) (p.settled = true), reject(err);
        },
      };
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
    for (const pack of [q.pending, ...q.sent])
      for (const p of pack) {
        if (!p.settled) n++;
        p.reject(err);
      }
    q.pending = [];
    return n;
  }

  private flush(q: OwnerQueue): void {
    while (q.pending.length > 0 && q.inFlight < this.maxInFlight) {
      const pack = q.pending.splice(0, this.opts.maxOps);
      q.inFlight++;
      void this.request(q, pack).finally(() => {
        q.inFlight--;
        if (q.pending.length > 0) this.flush(q);
      });
    }
  }

  private async request(q: OwnerQueue, pack: Pending[]): Promise<void> {
    let timeout = 0;
    for (const p of pack) timeout = Math.max(timeout, p.timeoutMs);
    routedMessages.inc();
    routedOps.inc(pack.length);
    q.sent.add(pack);
    try {
      const msg = await this.opts.nc.request(q.subject, encode({ ops: pack.map((p) => p.op) }), { timeout: Math.max(1, Math.ceil(timeout)) });
      const { results } = decodeReply(msg.data, pack.length);
      for (let i = 0; i < pack.length; i++) {
        const r = results[i];
        if (r.ok) pack[i].resolve(r.value);
        else pack[i].reject(seatErrorFromJSON(r.error));
      }
    } catch (err) {
      const e = transportError(err);
      for (const p of pack) p.reject(e);
    } finally {
      q.sent.delete(pack);
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
