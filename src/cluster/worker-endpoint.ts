import type { NatsConnection } from 'nats';
import { ErrorCode, SeatError, asSeatError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { SeatService } from '../service/seat-service.ts';
import { endpointMessages, endpointOps, hopParts } from './cluster-metrics.ts';
import { FrameAssembler } from './hop-frames.ts';
import { NatsTransport } from './nats-transport.ts';
import { checkOp, runOp, type MapReader } from './op-dispatch.ts';
import type { Placement } from './placement.ts';
import { ResultSender } from './result-sender.ts';
import { transportFrameLimit, type ClusterTransport, type TransportMessage } from './transport.ts';
import { viewToMapWire } from './show-map-wire.ts';
import { decodeRequest, encodeJSON, errorResult, type Op, type OpResult } from './wire.ts';

const okOps = endpointOps.labels('ok');
/** Queue group of every worker command subscription. */
export const WORKER_QUEUE_GROUP = 'seat-workers';

/** Bytes of unfinished parted requests a worker keeps at once. */
export const DEFAULT_REQUEST_ASSEMBLY_MAX_BYTES = 64 * 1024 * 1024;
/** A parted request not complete after this long is dropped (its sender's attempt is over). */
export const DEFAULT_REQUEST_ASSEMBLY_MAX_AGE_MS = 30_000;

export interface WorkerEndpointOptions {
  /** Where commands arrive and results leave; or `nc`, taken as a NatsTransport. */
  transport?: ClusterTransport;
  nc?: NatsConnection;
  /** This worker's command subject (`clusterSubjects(prefix).commands(nodeId)`). */
  subject: string;
  service: SeatService;
  placement: Placement;
  logger: Logger;
  /** Reads a show's map in wire form straight from the actor; default: through service.getShow. */
  readMap?: MapReader;
  /** Caps a message below the server's max_payload (bytes); default: max_payload itself. */
  maxFrameBytes?: number;
  /**
   * Whether this worker serves the show right now. Default: the ring says it is the owner.
   * Takeover/handover logic may narrow it (a show being handed over answers NOT_OWNER).
   */
  canServe?: (showId: string) => boolean;
}

/**
 * A worker's side of routing: one subscription on its own subject. A request message (put
 * back together first if it came in parts) is acknowledged at once; then every op is
 * checked (the edge's schemas, placement: NOT_OWNER so the gateway re-reads the ring) and
 * run on the local service, and each result goes to the gateway's inbox as soon as it is
 * ready: results done in the same turn of the event loop share a message, a result too big
 * for one message goes in parts. Ops of one message run concurrently (they are commands
 * from different clients); per show, the actor's mailbox orders them.
 */
export class WorkerEndpoint {
  private unsubscribe: (() => void) | null = null;
  private readonly transport: ClusterTransport;
  private readonly log: Logger;
  private readonly inFlight = new Set<Promise<void>>();
  private canServe: (showId: string) => boolean;
  private readonly readMap: MapReader;
  private readonly assembler: FrameAssembler;
  private readonly results: ResultSender;
  /** Counts since start (also exported as metrics). */
  readonly counts = { messages: 0, ops: 0 };

  constructor(private readonly opts: WorkerEndpointOptions) {
    this.log = opts.logger.child({ subsystem: 'worker-endpoint' });
    if (!opts.transport && !opts.nc) throw new Error('WorkerEndpoint needs a transport or a NATS connection');
    const transport = (this.transport = opts.transport ?? new NatsTransport(opts.nc!));
    const self = opts.placement.selfId;
    this.canServe = opts.canServe ?? ((showId) => self !== null && opts.placement.selfAlive && opts.placement.owner(showId) === self);
    this.readMap = opts.readMap ?? (async (showId) => viewToMapWire(await opts.service.getShow(showId)));
    this.assembler = new FrameAssembler({
      maxBytes: DEFAULT_REQUEST_ASSEMBLY_MAX_BYTES,
      maxAgeMs: DEFAULT_REQUEST_ASSEMBLY_MAX_AGE_MS,
      onDrop: (msgId, reason) => this.log.warn({ msgId, reason }, 'dropped an unfinished parted request'),
    });
    this.results = new ResultSender({ transport, limit: () => transportFrameLimit(transport, opts.maxFrameBytes), logger: this.log });
  }

  /** Replaces the ownership check (for takeover/handover wiring). */
  setCanServe(fn: (showId: string) => boolean): void {
    this.canServe = fn;
  }

  start(): void {
    // A queue group: should two processes ever run one node id, each request still reaches
    // only one of them (the NODE_ID claim refuses the second process at start).
    this.unsubscribe = this.transport.subscribe(this.opts.subject, (msg) => this.receive(msg), {
      queue: WORKER_QUEUE_GROUP,
      onError: (err) => this.log.warn({ err }, 'command subscription failed'),
    });
  }

  private receive(msg: TransportMessage): void {
    if (msg.headers) hopParts.labels('in').inc();
    const whole = this.assembler.add(msg.headers, msg.data);
    if (whole === null) return;
    this.counts.messages++;
    endpointMessages.inc();
    let inbox: string;
    let ops: unknown[];
    try {
      ({ inbox, ops } = decodeRequest(whole));
    } catch (err) {
      this.log.warn({ err }, 'dropped a malformed op request');
      this.ack(msg, { error: asSeatError(err).toJSON() });
      return;
    }
    this.ack(msg, { accepted: ops.length });
    this.counts.ops += ops.length;
    const receivedAt = performance.now();
    for (const raw of ops) {
      const p = this.runOne(raw, receivedAt).then((r) => this.results.send(inbox, r.id, r.result));
      const tracked = p.finally(() => this.inFlight.delete(tracked));
      this.inFlight.add(tracked);
    }
  }

  private ack(msg: TransportMessage, body: unknown): void {
    try {
      msg.respond(encodeJSON(body));
    } catch (err) {
      this.log.warn({ err }, 'could not acknowledge a request');
    }
  }

  private async runOne(raw: unknown, receivedAt: number): Promise<{ id: number; result: OpResult }> {
    const id = typeof (raw as Op | null)?.id === 'number' ? (raw as Op).id : -1;
    let op: Op | undefined;
    try {
      op = checkOp(raw);
      if (!this.canServe(op.showId)) throw new SeatError(ErrorCode.NOT_OWNER, 'this worker does not own the show');
      const deadlineAt = op.budgetMs !== undefined ? receivedAt + op.budgetMs : undefined;
      const value = await runOp(this.opts.service, this.readMap, op, deadlineAt);
      okOps.inc();
      return { id, result: value === undefined ? { ok: true } : { ok: true, value } };
    } catch (err) {
      const e = asSeatError(err);
      if (e.code === ErrorCode.INTERNAL) this.log.error({ err, showId: op?.showId, method: op?.method }, 'op failed');
      endpointOps.labels(e.code).inc();
      return { id, result: errorResult(e) };
    }
  }

  /** Stops taking requests (they go unanswered: the gateway sees no responders and retries elsewhere) and waits for those in flight. */
  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await Promise.allSettled([...this.inFlight]);
    this.results.flushNow();
  }
}
