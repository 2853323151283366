import { randomBytes } from 'node:crypto';
import { logger as rootLogger, type Logger } from '../../logger.ts';
import { createSeatNode, type SeatNode } from '../../node.ts';
import { openMemoryStorage, type Storage } from '../../persistence/index.ts';
import { startGatewayRouting, type GatewayRoutingOptions } from '../gateway-routing.ts';
import type { MembershipPlacement } from '../membership-placement.ts';
import { NodeIdClaim } from '../node-claim.ts';
import type { OwnerBatcher } from '../owner-batcher.ts';
import { attachOwnership, type Ownership } from '../ownership.ts';
import type { RemoteSeatService } from '../remote-seat-service.ts';
import type { WorkerEndpoint } from '../worker-endpoint.ts';
import { createWorkerRouting, type WorkerRoutingOptions } from '../worker-routing.ts';
import { ManualClock } from './manual-clock.ts';
import { InProcessMembership } from './membership.ts';
import { InProcessNetwork, type InProcessTransport } from './transport.ts';

/** Lease timings on the manual clock (the cluster's defaults). */
export const IN_PROCESS_HEARTBEAT_MS = 200;
export const IN_PROCESS_MEMBER_TTL_MS = 800;

export interface InProcessClusterOptions {
  /** Node ids (weight 1) or members to start with. */
  workers?: Array<string | { nodeId: string; weight: number }>;
  /** Ops per pack (BATCH_MAX_OPS). */
  maxOps?: number;
  /** The network's largest message (bytes); lower it to make packs go in parts. */
  maxPayloadBytes?: number;
  /** A routed op's whole budget and one attempt's, in real ms. */
  requestTimeoutMs?: number;
  attemptTimeoutMs?: number;
  logger?: Logger;
}

/** A worker of an in-process cluster: the same parts a ROLE=worker process wires, on in-process ports. */
export interface InProcessWorker {
  nodeId: string;
  node: SeatNode;
  placement: MembershipPlacement;
  endpoint: WorkerEndpoint;
  ownership: Ownership;
  transport: InProcessTransport;
  /** Graceful stop: leave the ring, hand every show over, finish ops in flight. */
  close(): Promise<void>;
  /** A crash: the process is gone at once, nothing is handed over or written. */
  kill(): Promise<void>;
}

/** A gateway of an in-process cluster: the RemoteSeatService a ROLE=gateway process serves. */
export interface InProcessGateway {
  name: string;
  service: RemoteSeatService;
  placement: MembershipPlacement;
  batcher: OwnerBatcher;
  close(): Promise<void>;
}

/**
 * Workers and gateways in one process, wired as startWorker and startClusterGateway wire them
 * (membership placement, worker endpoint, ownership handover/takeover, owner batcher, router)
 * over in-process ports: an InProcessNetwork for the transport, an InProcessMembership for
 * leases and claims, one memory storage whose log fences writers as the real one does. Time
 * for leases is a ManualClock: `tick` moves it one heartbeat and has every process beat, so
 * a killed worker leaves the ring after `expireDead`, deterministically.
 *
 * What it leaves out: warm replicas and the expiry index (they follow JetStream and Redis),
 * the shared clock (actors decide on the local clock) and NATS connection-state handling.
 */
export class InProcessCluster {
  readonly clock = new ManualClock();
  readonly network: InProcessNetwork;
  readonly membership: InProcessMembership;
  readonly storage: Storage;
  readonly workers = new Map<string, InProcessWorker>();
  readonly gateways = new Map<string, InProcessGateway>();
  readonly prefix = `inproc${randomBytes(4).toString('hex')}`;
  private readonly secret = randomBytes(32).toString('hex');
  private readonly log: Logger;
  /** The configuration both roles read, as a cluster process would have it. */
  private readonly settings: GatewayRoutingOptions['settings'] & WorkerRoutingOptions['settings'];

  constructor(opts: InProcessClusterOptions = {}) {
    this.network = new InProcessNetwork(opts.maxPayloadBytes !== undefined ? { maxPayloadBytes: opts.maxPayloadBytes } : {});
    this.membership = new InProcessMembership(this.clock.now);
    this.log = opts.logger ?? rootLogger;
    this.storage = openMemoryStorage(this.log);
    this.settings = {
      clusterPrefix: this.prefix,
      nodeWeight: 1,
      heartbeatIntervalMs: IN_PROCESS_HEARTBEAT_MS,
      memberTtlMs: IN_PROCESS_MEMBER_TTL_MS,
      serveThroughRedisOutage: false,
      hopMaxFrameBytes: undefined,
      batchMaxOps: opts.maxOps ?? 128,
      requestTimeoutMs: opts.requestTimeoutMs ?? 5_000,
      attemptTimeoutMs: opts.attemptTimeoutMs ?? 1_000,
      hopHeavyTimeoutMs: opts.requestTimeoutMs ?? 5_000,
      natsDownWaitMs: 0,
    };
  }

  static async start(opts: InProcessClusterOptions = {}): Promise<InProcessCluster> {
    const cluster = new InProcessCluster(opts);
    for (const w of opts.workers ?? []) {
      const m = typeof w === 'string' ? { nodeId: w, weight: 1 } : w;
      await cluster.addWorker(m.nodeId, m.weight);
    }
    await cluster.refreshAll();
    return cluster;
  }

  async addWorker(nodeId: string, weight = 1): Promise<InProcessWorker> {
    const log = this.log.child({ nodeId });
    const store = this.membership.client(nodeId);
    const claim = new NodeIdClaim(store, nodeId, IN_PROCESS_MEMBER_TTL_MS);
    await claim.claim(0, log);
    const transport = this.network.connect(nodeId);
    // Every worker's storage is the one shared store; closing a worker must not close it.
    const storage: Storage = { ...this.storage, close: async () => {} };
    let placement!: MembershipPlacement;
    const node = createSeatNode({ holdTokenSecret: this.secret, snapshotEveryEvents: 50, snapshotEveryMs: 60_000 }, storage, log, [], {
      beforeTimer: (showId) => placement.mayAct(showId),
    });
    let endpoint: WorkerEndpoint;
    ({ placement, endpoint } = createWorkerRouting({
      nodeId,
      node,
      transport,
      store,
      claim,
      settings: { ...this.settings, nodeWeight: weight },
      logger: log,
      now: this.clock.now,
      manualBeats: true,
    }));
    const ownership = attachOwnership({ host: node.host, placement, logger: log });
    endpoint.start();
    await placement.start();
    let stopped = false;
    const worker: InProcessWorker = {
      nodeId,
      node,
      placement,
      endpoint,
      ownership,
      transport,
      close: async () => {
        if (stopped) return;
        stopped = true;
        this.workers.delete(nodeId);
        await placement.leave();
        await ownership.handOverAll();
        await endpoint.close();
        await ownership.close();
        await placement.close();
        await claim.release().catch(() => undefined);
        await node.close();
        transport.close();
      },
      kill: async () => {
        if (stopped) return;
        stopped = true;
        this.workers.delete(nodeId);
        transport.close();
        await placement.close();
        await ownership.close();
        node.host.dropAll();
        await node.close();
      },
    };
    this.workers.set(nodeId, worker);
    return worker;
  }

  async addGateway(name = `g${this.gateways.size + 1}`): Promise<InProcessGateway> {
    const log = this.log.child({ gateway: name });
    const transport = this.network.connect(name);
    const { placement, batcher, service, close } = await startGatewayRouting({
      transport,
      store: this.membership.client(name),
      catalog: this.storage.catalog,
      bus: this.storage.bus,
      settings: this.settings,
      logger: log,
      now: this.clock.now,
      manualBeats: true,
    });
    const gateway: InProcessGateway = {
      name,
      service,
      placement,
      batcher,
      close: async () => {
        this.gateways.delete(name);
        await close();
        transport.close();
      },
    };
    this.gateways.set(name, gateway);
    return gateway;
  }

  /** Every process beats and re-reads membership now (no time passes). */
  async refreshAll(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.placement.refresh()));
    await Promise.all([...this.gateways.values()].map((g) => g.placement.refresh()));
  }

  /** One heartbeat interval passes: the clock moves and every process beats. */
  async tick(ms = IN_PROCESS_HEARTBEAT_MS): Promise<void> {
    this.clock.advance(ms);
    await this.refreshAll();
  }

  /** Heartbeats pass until a lease not renewed meanwhile has expired everywhere (TTL plus one interval). */
  async expireDead(): Promise<void> {
    for (let t = 0; t <= IN_PROCESS_MEMBER_TTL_MS; t += IN_PROCESS_HEARTBEAT_MS) await this.tick();
  }

  /** Resolves when every worker's handovers and takeovers of the last ring change are done. */
  async settled(): Promise<void> {
    await Promise.all([...this.workers.values()].map((w) => w.ownership.settled()));
  }

  async close(): Promise<void> {
    for (const g of [...this.gateways.values()]) await g.close();
    for (const w of [...this.workers.values()]) await w.kill();
    await this.storage.close();
  }
}
