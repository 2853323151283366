import { ErrorCode as NatsErrorCode, NatsError, type NatsConnection } from 'nats';
import { ErrorCode, SeatError, seatErrorFromJSON } from '../errors.ts';
import { routedMessages, routedOps } from './cluster-metrics.ts';
import { decodeReply, encode, type Op } from './wire.ts';

/** Request messages in flight to one owner before new ops wait to share the next one. */
export const DEFAULT_MAX_IN_FLIGHT_PER_OWNER = 8;

interface Pending {
  op: Op;
  timeoutMs: number;
  resolve(value: unknown): void;
  reject(err: SeatError): void;
}

interface OwnerQueue {
  subject: string;
  pending: Pending[];
  inFlight: number;
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
      q = { subject: this.opts.subjectOf(owner), pending: [], inFlight: 0, scheduled: false };
      this.queues.set(owner, q);
    }
    const queue = q;
    return new Promise((resolve, reject) => {
      queue.pending.push({ op, timeoutMs, resolve, reject });
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
