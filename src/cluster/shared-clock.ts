import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.ts';
import { clockOffsetMs, clockSkewed } from './cluster-metrics.ts';
import { isSkewed, OffsetEstimator, sampleOf } from './clock-offset.ts';
import type { MembershipStore, ServerClock } from './membership.ts';

export interface SharedClockOptions {
  /** The reference clock: the membership store's (Redis `TIME` in the cluster). */
  server: ServerClock;
  /** How often to measure (the heartbeat interval). */
  intervalMs: number;
  /** Beyond this offset the worker owns no shows (CLOCK_SKEW_MAX_MS). */
  skewMaxMs: number;
  logger: Logger;
  /** The local wall clock (tests). */
  local?: () => number;
}

/**
 * The cluster's one clock for decisions: this process's wall clock plus its measured offset to
 * Redis `TIME`, re-measured every heartbeat interval. Hold deadlines, `confirmedAt` and every
 * other `now` an actor decides with come from here, so a hold lives its TTL whichever worker
 * made it and whichever expires it.
 *
 * While Redis is unreachable the last estimate stays in use (clocks drift by milliseconds an
 * hour, so an outage does not move decisions). A worker beyond `skewMaxMs` logs it, exports it
 * (`seat_cluster_clock_offset_ms`, `seat_cluster_clock_skewed`) and, through `gateMembership`,
 * stays out of the ring until its clock is back within bounds.
 */
export class SharedClock {
  private readonly estimator = new OffsetEstimator();
  private readonly local: () => number;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  private measuring = false;
  private wasSkewed = false;
  private failed = false;

  constructor(private readonly opts: SharedClockOptions) {
    this.local = opts.local ?? Date.now;
    this.log = opts.logger.child({ subsystem: 'clock' });
  }

  /** Decision time, ms since the epoch on the shared clock. Bound: pass it around as a function. */
  readonly now = (): number => this.local() + (this.estimator.offsetMs ?? 0);

  /** The measured offset (shared − local), null before the first measurement. */
  get offsetMs(): number | null {
    return this.estimator.offsetMs;
  }

  /** Whether this worker's clock is too far off to own shows (as of the last measurement). */
  get skewed(): boolean {
    return this.wasSkewed;
  }

  /** Measures once (fails if Redis is unreachable), then keeps measuring every interval. */
  async start(): Promise<void> {
    await this.measure();
    this.timer = setInterval(() => {
      this.measure().catch((err: unknown) => {
        if (!this.failed) this.log.warn({ err }, 'clock measurement failed; keeping the last offset');
        this.failed = true;
      });
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  /** One round trip to Redis TIME; concurrent calls share nothing and skip instead. */
  async measure(): Promise<void> {
    if (this.measuring) return;
    this.measuring = true;
    try {
      const sentWall = this.local();
      const sentMono = performance.now();
      const referenceMs = await this.opts.server.time();
      const rttMs = performance.now() - sentMono;
      // The monotonic clock times the trip (a wall clock may step mid-trip); the wall clock places it.
      this.estimator.add(sampleOf({ localSentMs: sentWall, localReceivedMs: sentWall + rttMs, referenceMs }));
      this.failed = false;
      this.report();
    } finally {
      this.measuring = false;
    }
  }

  private report(): void {
    const offset = this.estimator.offsetMs ?? 0;
    clockOffsetMs.set(offset);
    const skewed = isSkewed(this.estimator.offsetMs, this.opts.skewMaxMs, this.wasSkewed);
    clockSkewed.set(skewed ? 1 : 0);
    if (skewed && !this.wasSkewed)
      this.log.error(
        { offsetMs: offset, maxMs: this.opts.skewMaxMs },
        'clock skewed beyond the bound; this worker owns no shows until it is back',
      );
    else if (!skewed && this.wasSkewed)
      this.log.info({ offsetMs: offset, maxMs: this.opts.skewMaxMs }, 'clock back within the bound; rejoining');
    this.wasSkewed = skewed;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * A membership store that keeps this worker out of the ring while its clock is skewed: it
 * leaves once (so the others move its shows now, not after the TTL), then reads the list
 * without beating and without itself. Every other method goes to the store unchanged.
 */
export function gateMembership<T extends MembershipStore>(store: T, clock: Pick<SharedClock, 'skewed'>): T {
  let out = false;
  const beat: MembershipStore['beat'] = async (self, ttlMs) => {
    if (self === null || !clock.skewed) {
      out = false;
      return store.beat(self, ttlMs);
    }
    if (!out) await store.leave(self.nodeId);
    out = true;
    return (await store.beat(null, ttlMs)).filter((m) => m.nodeId !== self.nodeId);
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'beat') return beat;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
