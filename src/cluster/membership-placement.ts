import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.ts';
import { clusterSubjects } from '../subjects.ts';
import type { MembershipStore } from './membership.ts';
import { recordRingChange } from './ownership-metrics.ts';
import type { NodeIdClaim } from './node-claim.ts';
import type { Placement, PlacementChange } from './placement.ts';
import { Ring, sameMembers, type Member } from './ring.ts';
import type { ClusterTransport } from './transport.ts';

export interface MembershipPlacementOptions {
  store: MembershipStore;
  /** Join/leave announcements travel here; null: polling alone (slower to react). */
  transport: ClusterTransport | null;
  prefix: string;
  /** This worker, heartbeating; null on a gateway (reads only). */
  self: Member | null;
  heartbeatIntervalMs: number;
  memberTtlMs: number;
  logger: Logger;
  /**
   * Keep serving on a frozen ring while the store is unreachable instead of dropping out when
   * this worker's lease lapses (the log's fencing keeps a stale owner harmless); on return,
   * rejoin keeping the shows in memory. Default false: a worker that cannot beat serves nothing.
   */
  serveThroughOutage?: boolean;
  /** This worker's NODE_ID claim, checked and refreshed with every heartbeat. */
  claim?: NodeIdClaim;
  /** Runs once when another process took this worker's NODE_ID: this one serves nothing from then on. */
  onClaimLost?: () => void;
  /** The monotonic clock leases are timed by (ms); default performance.now. Tests move it by hand. */
  now?: () => number;
  /** Beat only when `refresh` is called, no interval timer (in-process clusters on a manual clock). */
  manualBeats?: boolean;
}

/** What travels on `<prefix>.cluster.members`. */
export type MembershipAnnouncement = { type: 'join'; nodeId: string } | { type: 'leave'; nodeId: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Placement from a membership store (Redis in the cluster) and a `hashring` ring. Every
 * heartbeat interval the process beats (a worker) and re-reads the member list in one round
 * trip; the ring is rebuilt only when the list changes. Join and leave announcements on the
 * cluster transport (NATS) make everyone re-read at once instead of at their next tick.
 *
 * Timings (defaults): heartbeat 200 ms, TTL 800 ms. A killed worker leaves every view
 * within TTL + one interval (≤ 1.0 s); a graceful leave within one NATS hop (~1 ms).
 *
 * Self-fencing: a worker whose last successful heartbeat is older than the TTL (the process
 * was paused, or Redis is unreachable and serveThroughOutage is off) drops itself from its own
 * view, so it stops claiming shows the others have already moved; the log's fencing still
 * guards writes.
 *
 * Redis outage (serveThroughOutage): while heartbeats fail, the ring stays as it was last
 * read and the worker keeps serving its shows; answers stay safe because writes are fenced
 * by the log and answers from memory are checked against it (ShowActorDeps.verifyWindowMs).
 * When the store answers again, every member's entry may have expired meanwhile: for one
 * TTL plus one interval the ring is the frozen one plus whoever beat since, so the workers
 * coming back one by one do not shuffle every show around.
 */
export class MembershipPlacement implements Placement {
  readonly selfId: string | null;
  private ring = new Ring([]);
  private listeners = new Set<(change: PlacementChange) => void>();
  private polled: Member[] = [];
  private lastBeatOkAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private readonly now: () => number;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly log: Logger;
  private readonly subjects: ReturnType<typeof clusterSubjects>;
  private lastError: string | null = null;
  private left = false;
  /**
   * A heartbeat failed while this worker's lease was still current, and none worked since:
   * the store went away under a running worker. (A failure noticed only after the lease ran
   * out is a pause or a stall first: that worker must not assume it kept its shows.)
   */
  private outage = false;
  /** The members of the current ring. */
  private view: Member[] = [];
  /** Until then (on `now`), the ring keeps the members it had when the store came back. */
  private recoverUntil = -Infinity;
  private frozen: Member[] = [];
  private claimLost = false;

  constructor(private readonly opts: MembershipPlacementOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.selfId = opts.self?.nodeId ?? null;
    this.log = opts.logger.child({ subsystem: 'placement' });
    this.subjects = clusterSubjects(opts.prefix);
  }

  /** First beat and read; resolves once this process knows the ring (and, for a worker, is in it). */
  async start(): Promise<void> {
    if (this.opts.transport) {
      this.unsubscribe = this.opts.transport.subscribe(this.subjects.members, (msg) => {
        try {
          const a = JSON.parse(decoder.decode(msg.data)) as MembershipAnnouncement;
          this.log.debug({ announcement: a }, 'membership announcement');
        } catch {
          return;
        }
        void this.refresh();
      });
    }
    await this.refresh();
    if (this.lastError !== null) throw new Error(`membership unavailable: ${this.lastError}`);
    if (!this.opts.manualBeats) this.timer = setInterval(() => void this.refresh(), this.opts.heartbeatIntervalMs);
    if (this.opts.self) this.announce({ type: 'join', nodeId: this.opts.self.nodeId });
  }

  owner(showId: string): string | null {
    return this.ring.owner(showId);
  }

  replica(showId: string): string | null {
    return this.ring.replica(showId);
  }

  /** The owner first, then the next distinct nodes. */
  preference(showId: string, n: number): string[] {
    return this.ring.preference(showId, n);
  }

  members(): string[] {
    return [...this.ring.members];
  }

  onChange(listener: (change: PlacementChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Beats (worker) and re-reads now; concurrent calls share one round trip plus at most one more. */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.poll().finally(() => {
      this.inFlight = null;
      if (this.again && !this.closed) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.inFlight;
  }

  /**
   * Whether this worker may serve its shows (always true on a gateway): its heartbeat is
   * current, or the store is unreachable and it serves through the outage.
   */
  get selfAlive(): boolean {
    if (this.opts.self === null) return true;
    if (this.claimLost) return false;
    return this.leaseCurrent || this.servingThroughOutage;
  }

  /** The store is unreachable and this worker keeps serving on the frozen ring. */
  get servingThroughOutage(): boolean {
    return this.opts.self !== null && this.opts.serveThroughOutage === true && this.outage && !this.claimLost;
  }

  private get leaseCurrent(): boolean {
    return this.now() - this.lastBeatOkAt < this.opts.memberTtlMs;
  }

  /**
   * Asked before a timer writes to a show (hold expiry): a worker whose lease is not current
   * (it may have been paused) beats first, then answers whether it still owns the show.
   */
  async mayAct(showId: string): Promise<boolean> {
    if (this.opts.self === null) return true;
    // Serving through an outage, a beat would only wait out a timeout: the log fences the write.
    if (!this.leaseCurrent && !this.servingThroughOutage) await this.refresh();
    return this.selfAlive && !this.left && this.owner(showId) === this.selfId;
  }

  private async poll(): Promise<void> {
    const started = this.now();
    let lapsed = false;
    try {
      if (this.opts.claim && this.opts.self && !this.left && !this.claimLost && !(await this.opts.claim.refresh())) this.loseClaim();
      this.polled = await this.opts.store.beat(this.left || this.claimLost ? null : this.opts.self, this.opts.memberTtlMs);
      if (this.lastError !== null) {
        this.log.info('membership store reachable again');
        this.frozen = this.view;
        this.recoverUntil = this.now() + this.opts.memberTtlMs + this.opts.heartbeatIntervalMs;
      }
      if (this.opts.self) {
        // A beat that lands after the lease ran out (paused process, slow store): the others
        // dropped this worker in between, whatever the member list looks like now.
        lapsed = this.lastBeatOkAt !== -Infinity && started - this.lastBeatOkAt >= this.opts.memberTtlMs;
        if (lapsed && this.outage && this.opts.serveThroughOutage) {
          // Served through the outage: what is in memory was checked against the log all along.
          this.log.info(
            { sinceLastBeatMs: Math.round(started - this.lastBeatOkAt) },
            'membership store back after an outage; rejoining with the shows in memory',
          );
          lapsed = false;
        } else if (lapsed)
          this.log.warn(
            { sinceLastBeatMs: Math.round(started - this.lastBeatOkAt) },
            'membership lease lapsed; dropping every show in memory',
          );
        this.lastBeatOkAt = started;
      }
      this.lastError = null;
      this.outage = false;
    } catch (err) {
      if (this.lastError === null) {
        if (this.leaseCurrent) this.outage = true;
        if (this.servingThroughOutage)
          this.log.warn({ err, members: this.ring.members }, 'membership heartbeat failed; serving owned shows on the frozen ring');
        else this.log.warn({ err }, 'membership heartbeat failed');
      }
      this.lastError = String(err);
    }
    this.apply(lapsed);
  }

  private loseClaim(): void {
    this.claimLost = true;
    this.log.error({ nodeId: this.selfId }, `another process claimed NODE_ID ${String(this.selfId)}; this one stops serving`);
    try {
      this.opts.onClaimLost?.();
    } catch (err) {
      this.log.error({ err }, 'claim-lost listener failed');
    }
  }

  /** The polled members, plus, right after an outage, the members the ring had through it. */
  private membersNow(): Member[] {
    if (this.now() >= this.recoverUntil) return this.polled;
    const ids = new Set(this.polled.map((m) => m.nodeId));
    return [...this.polled, ...this.frozen.filter((m) => !ids.has(m.nodeId))].sort((a, b) =>
      a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0,
    );
  }

  private apply(selfLapsed = false): void {
    // A worker that could not beat for a TTL is out of everyone else's ring: leave its own too.
    const now = this.membersNow();
    const view = this.selfAlive && !this.left ? now : now.filter((m) => m.nodeId !== this.selfId);
    const after = view.map((m) => m.nodeId);
    const before = this.ring.members;
    if (!selfLapsed && sameMembers(before, after) && this.sameWeights(view)) return;
    this.ring = new Ring(view);
    this.view = view;
    this.weights = new Map(view.map((m) => [m.nodeId, m.weight]));
    this.log.info({ before, after }, 'ring changed');
    const change = { before: [...before], after: [...after], ...(selfLapsed ? { selfLapsed } : {}) };
    recordRingChange(change);
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch (err) {
        this.log.error({ err }, 'placement listener failed');
      }
    }
  }

  private weights = new Map<string, number>();

  private sameWeights(view: Member[]): boolean {
    return view.every((m) => this.weights.get(m.nodeId) === m.weight);
  }

  private announce(a: MembershipAnnouncement): void {
    try {
      this.opts.transport?.publish(this.subjects.members, encoder.encode(JSON.stringify(a)));
    } catch (err) {
      this.log.warn({ err }, 'announcement failed');
    }
  }

  /**
   * Graceful leave: stops beating, removes this worker from the store and announces it, so
   * the others move its shows now instead of after the TTL. This process's own view drops
   * itself at once (its endpoint answers NOT_OWNER from then on); it keeps following the
   * others until `close`.
   */
  async leave(): Promise<void> {
    if (!this.opts.self || this.left || this.claimLost) return;
    this.left = true;
    this.apply();
    try {
      await this.inFlight?.catch(() => undefined);
      await this.opts.store.leave(this.opts.self.nodeId);
      this.announce({ type: 'leave', nodeId: this.opts.self.nodeId });
      await this.opts.transport?.flush();
    } catch (err) {
      this.log.warn({ err }, 'leave failed; the member expires after its TTL');
    }
  }

  /** Stops beating and following. Does not leave: call `leave` first for a graceful exit. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.inFlight?.catch(() => undefined);
  }
}
