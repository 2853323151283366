import type { Msg, NatsConnection, Subscription } from 'nats';
import { ErrorCode, SeatError, asSeatError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { SeatService } from '../service/seat-service.ts';
import { endpointMessages, endpointOps } from './cluster-metrics.ts';
import { runOp } from './op-dispatch.ts';
import type { Placement } from './placement.ts';
import { decodeRequest, encode, errorResult, isRoutedMethod, type Op, type OpResult } from './wire.ts';

const okOps = endpointOps.labels('ok');

export interface WorkerEndpointOptions {
  nc: NatsConnection;
  /** This worker's command subject (`clusterSubjects(prefix).commands(nodeId)`). */
  subject: string;
  service: SeatService;
  placement: Placement;
  logger: Logger;
  /**
   * Whether this worker serves the show right now. Default: the ring says it is the owner.
   * Takeover/handover logic may narrow it (a show being handed over answers NOT_OWNER).
   */
  canServe?: (showId: string) => boolean;
}

/**
 * A worker's side of routing: one subscription on its own subject. Each request is unpacked,
 * every op checked against placement (NOT_OWNER otherwise, so the gateway re-reads the ring
 * and retries) and run on the local service; the reply holds one result per op, in order,
 * sent once all of them are done. Ops of one message run concurrently (they are commands
 * from different clients); per show, the actor's mailbox orders them.
 */
export class WorkerEndpoint {
  private sub: Subscription | null = null;
  private readonly log: Logger;
  private readonly inFlight = new Set<Promise<void>>();
  private canServe: (showId: string) => boolean;
  /** Counts since start (also exported as metrics). */
  readonly counts = { messages: 0, ops: 0 };

  constructor(private readonly opts: WorkerEndpointOptions) {
    this.log = opts.logger.child({ subsystem: 'worker-endpoint' });
    const self = opts.placement.selfId;
    this.canServe = opts.canServe ?? ((showId) => self !== null && opts.placement.selfAlive && opts.placement.owner(showId) === self);
  }

  /** Replaces the ownership check (for takeover/handover wiring). */
  setCanServe(fn: (showId: string) => boolean): void {
    this.canServe = fn;
  }

  start(): void {
    this.sub = this.opts.nc.subscribe(this.opts.subject, {
      callback: (err, msg) => {
        if (err) {
          this.log.warn({ err }, 'command subscription failed');
          return;
        }
        const p = this.handle(msg).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      },
    });
  }

  private async handle(msg: Msg): Promise<void> {
    this.counts.messages++;
    endpointMessages.inc();
    let ops: Op[];
    try {
      ops = decodeRequest(msg.data).ops;
    } catch (err) {
      this.log.warn({ err }, 'dropped a malformed op request');
      if (msg.reply) msg.respond(encode({ results: [] }));
      return;
    }
    this.counts.ops += ops.length;
    const results = await Promise.all(ops.map((op) => this.runOne(op)));
    if (msg.reply) {
      try {
        msg.respond(encode({ results }));
      } catch (err) {
        this.log.warn({ err }, 'could not reply');
      }
    }
  }

  private async runOne(op: Op): Promise<OpResult> {
    try {
      if (!op || typeof op.showId !== 'string' || !isRoutedMethod(op.method) || !Array.isArray(op.args))
        throw new SeatError(ErrorCode.INVALID_ARGUMENT, 'malformed op');
      if (!this.canServe(op.showId)) throw new SeatError(ErrorCode.NOT_OWNER, 'this worker does not own the show');
      const value = await runOp(this.opts.service, op);
      okOps.inc();
      return value === undefined ? { ok: true } : { ok: true, value };
    } catch (err) {
      const e = asSeatError(err);
      if (e.code === ErrorCode.INTERNAL) this.log.error({ err, showId: op?.showId, method: op?.method }, 'op failed');
      endpointOps.labels(e.code).inc();
      return errorResult(e);
    }
  }

  /** Stops taking requests (they go unanswered: the gateway sees no responders and retries elsewhere) and waits for those in flight. */
  async close(): Promise<void> {
    this.sub?.unsubscribe();
    this.sub = null;
    await Promise.allSettled([...this.inFlight]);
  }
}
