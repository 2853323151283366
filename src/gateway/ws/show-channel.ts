import type { SeatDelta } from '../../actors/deltas.ts';
import type { SeatStatus } from '../../actors/types.ts';
import { ErrorCode, SeatError, asSeatError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { SeatService } from '../../service/seat-service.ts';
import { DeltaRing } from './delta-ring.ts';
import { SeatMirror } from './seat-mirror.ts';
import type { TickGovernor } from './tick-governor.ts';
import { wsMetrics } from './ws-metrics.ts';

/** What a channel needs from a socket. Implemented by Connection. */
export interface Watcher {
  /** Sends a shared frame unless the socket is stale or the frame would pass its buffer cap (then marks it stale). */
  trySend(frame: Buffer): boolean;
  /** Sends regardless of the cap: a snapshot for a socket that just drained. */
  forceSend(frame: Buffer): void;
  sendJson(frame: object, type: string): void;
  /** The subscription could not start (unknown show, storage down): drop it and tell the client. */
  subscriptionFailed(showId: string, err: SeatError): void;
}

export interface SubscribeRequest {
  fromVersion?: number;
  layoutVersion?: number;
}

/** Where a watcher's earlier subscription to this show left it, for a resubscribe. */
export interface Carry {
  /** The version the server had brought the watcher to. */
  version: number;
  layoutVersion: number | undefined;
  /** When it got its recent full snapshots (ms since epoch), oldest first. */
  snapshots: number[];
}

interface Subscription {
  watcher: Watcher;
  request: SubscribeRequest;
  /** False until the watcher got its snapshot or its missed deltas. */
  ready: boolean;
  /** The version this watcher's map is at. */
  version: number;
  /** The layout version whose labels the watcher has. */
  layoutVersion: number | undefined;
  /** Skipped while over its buffer cap: gets a fresh snapshot instead of the backlog. */
  needsSnapshot: boolean;
  /** When it got its recent full snapshots of this show (ms since epoch), oldest first, bounded. */
  snapshots: number[];
  /** Within the resnapshot window: the version to continue from when `request.fromVersion` cannot be served. */
  fallbackFrom: number | undefined;
}

interface PendingDelta {
  fromVersion: number;
  version: number;
  changes: Map<string, SeatStatus>;
}

export interface ChannelDeps {
  service: SeatService;
  logger: Logger;
  governor: TickGovernor;
  ringFrames: number;
  ringBytes: number;
  /** How long a channel with no watchers keeps watching, so a reconnecting client can resume. */
  lingerMs: number;
  /** The window of the resubscribe rules (see `add`). */
  resnapshotWindowMs: number;
  /** Full snapshots of one show a socket may get per window by unsubscribing and subscribing again. */
  maxSnapshotsPerWindow: number;
  onEmpty: (channel: ShowChannel) => void;
}

/** Deltas buffered while the map loads; past this the channel loads again instead. */
const MAX_EARLY_DELTAS = 10_000;
const MAX_LOAD_ATTEMPTS = 5;
const LOAD_RETRY_BASE_MS = 100;

/**
 * The fan-out of one show in this process: one `service.watch`, a mirror of the seat map,
 * deltas coalesced per tick and serialized once for every watcher, and a ring of recent
 * deltas for resume. Created on the first subscriber, disposed `lingerMs` after the last
 * one leaves (a lone client that reconnects within it can still resume).
 * Single-threaded: every method runs on the event loop; the only async step is loading the
 * map, during which deltas are buffered.
 */
export class ShowChannel {
  readonly showId: string;
  private readonly deps: ChannelDeps;
  private readonly subs = new Map<Watcher, Subscription>();
  private readonly ring: DeltaRing;
  private mirror: SeatMirror | null = null;
  private loading = false;
  private early: SeatDelta[] = [];
  private earlyOverflow = false;
  private loadAttempts = 0;
  private pending: PendingDelta | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Version of the last delta broadcast (or of the snapshot after a load). */
  private flushedVersion = 0;
  private lastFlushAt = -Infinity;
  private readonly unwatch: () => void;
  private disposed = false;
  private lingerTimer: NodeJS.Timeout | null = null;

  constructor(showId: string, deps: ChannelDeps) {
    this.showId = showId;
    this.deps = deps;
    this.ring = new DeltaRing(deps.ringFrames, deps.ringBytes);
    // Watch before loading: a delta committed meanwhile is buffered, not lost.
    this.unwatch = deps.service.watch(showId, (d) => this.onDelta(d));
    void this.load();
  }

  /**
   * Adds a watcher, or restarts its subscription (a client that saw a gap resubscribes).
   * Resubscribes do not buy the whole map over and over:
   * - on a live subscription that got a full snapshot within `resnapshotWindowMs`, the
   *   watcher continues from the version the server last brought it to (the deltas since,
   *   then `subscribed`);
   * - after an unsubscribe (`carry`), it gets a snapshot again, up to
   *   `maxSnapshotsPerWindow` per window; past that it continues like a live one.
   * A `fromVersion` the server can serve is honoured either way.
   */
  add(watcher: Watcher, request: SubscribeRequest, carry?: Carry): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
    const previous = this.subs.get(watcher);
    const live = previous?.ready && !previous.needsSnapshot && previous.version >= 0;
    const from = live ? carryOf(previous) : carry;
    const now = Date.now();
    const recent = from ? from.snapshots.filter((t) => now - t < this.deps.resnapshotWindowMs) : [];
    let effective = request;
    let fallbackFrom: number | undefined;
    if (from && recent.length >= (live ? 1 : this.deps.maxSnapshotsPerWindow)) {
      fallbackFrom = from.version;
      // A fromVersion the client names is its own truth (it may have lost frames in transit).
      if (request.fromVersion === undefined) effective = { ...request, fromVersion: from.version };
      if (from.layoutVersion !== undefined) effective = { ...effective, layoutVersion: from.layoutVersion };
    }
    const sub: Subscription = {
      watcher,
      request: effective,
      ready: false,
      version: -1,
      layoutVersion: effective.layoutVersion,
      needsSnapshot: false,
      snapshots: recent,
      fallbackFrom,
    };
    this.subs.set(watcher, sub);
    if (this.mirror && !this.loading) this.sync(sub);
  }

  /** Ends a watcher's subscription; returns where it was, for a resubscribe soon after. */
  remove(watcher: Watcher): Carry | undefined {
    const sub = this.subs.get(watcher);
    if (!this.subs.delete(watcher)) return undefined;
    const carry = sub?.ready && !sub.needsSnapshot && sub.version >= 0 ? carryOf(sub) : undefined;
    if (this.subs.size > 0) return carry;
    if (this.deps.lingerMs <= 0) this.dispose();
    else {
      this.lingerTimer = setTimeout(() => {
        if (this.subs.size === 0) this.dispose();
      }, this.deps.lingerMs);
      this.lingerTimer.unref();
    }
    return carry;
  }

  /** A stale watcher drained: send it a fresh snapshot in place of what it skipped. */
  recover(watcher: Watcher): void {
    const sub = this.subs.get(watcher);
    if (!sub?.needsSnapshot || !sub.ready || !this.mirror || this.loading) return;
    this.sendSnapshot(sub, true);
  }

  private sync(sub: Subscription): void {
    const m = this.mirror as SeatMirror;
    const oldest = this.ring.oldestFrom ?? this.flushedVersion;
    const servable = (v: number | undefined): v is number => v !== undefined && v <= m.version && v >= oldest;
    let f = sub.request.fromVersion;
    // A version the client names that cannot be served does not buy a snapshot inside the window.
    if (!servable(f) && servable(sub.fallbackFrom)) f = sub.fallbackFrom;
    sub.ready = true;
    if (!servable(f)) {
      this.sendSnapshot(sub, false);
      return;
    }
    if (sub.fallbackFrom !== undefined) wsMetrics.resubscribes.inc({ outcome: 'continued' });
    for (const d of this.ring.since(f)) {
      if (!sub.watcher.trySend(d.frame)) {
        sub.needsSnapshot = true;
        return;
      }
    }
    // Deltas still pending past flushedVersion arrive with the next tick.
    sub.version = Math.max(f, this.flushedVersion);
    sub.layoutVersion = m.layoutVersion;
    sub.watcher.sendJson({ type: 'subscribed', showId: this.showId, version: sub.version }, 'subscribed');
  }

  private sendSnapshot(sub: Subscription, force: boolean): void {
    const m = this.mirror as SeatMirror;
    const frame = m.snapshotFrame(sub.layoutVersion !== m.layoutVersion);
    if (force) sub.watcher.forceSend(frame);
    else if (!sub.watcher.trySend(frame)) {
      sub.needsSnapshot = true;
      return;
    }
    wsMetrics.framesSent.inc({ type: 'snapshot' });
    sub.snapshots.push(Date.now());
    if (sub.snapshots.length > this.deps.maxSnapshotsPerWindow) sub.snapshots.shift();
    sub.version = m.version;
    sub.layoutVersion = m.layoutVersion;
    sub.needsSnapshot = false;
  }

  private onDelta(d: SeatDelta): void {
    if (this.disposed) return;
    const m = this.mirror;
    if (!m || this.loading) {
      if (this.early.length < MAX_EARLY_DELTAS) this.early.push(d);
      else this.earlyOverflow = true;
      return;
    }
    if (d.version <= m.version) return;
    if (d.resync || d.fromVersion > m.version || d.layoutVersion !== m.layoutVersion) {
      void this.load();
      return;
    }
    m.apply(d);
    if (!this.pending) {
      this.pending = { fromVersion: this.flushedVersion, version: d.version, changes: new Map() };
      // Flush on a cadence: a tick after the previous flush, or at once after a quiet spell.
      // Still one frame per tick at most, and a lone change is not held back a whole tick.
      const wait = Math.max(0, this.lastFlushAt + this.deps.governor.tickMs - performance.now());
      this.timer = setTimeout(() => this.flush(), wait);
    }
    const p = this.pending;
    for (const [label, status] of d.changes) p.changes.set(label, status);
    p.version = d.version;
  }

  private flush(): void {
    this.timer = null;
    const p = this.pending;
    this.pending = null;
    if (!p || this.disposed || !this.mirror) return;
    this.lastFlushAt = performance.now();
    const cpuFrom = process.cpuUsage();
    // Serialized once; every socket gets the same Buffer (no per-socket encoding).
    const frame = Buffer.from(
      JSON.stringify({
        type: 'delta',
        showId: this.showId,
        fromVersion: p.fromVersion,
        version: p.version,
        changes: [...p.changes],
        showStatus: this.mirror.status,
        ts: Date.now(),
      }),
    );
    this.ring.push({ fromVersion: p.fromVersion, version: p.version, frame });
    this.flushedVersion = p.version;
    let sent = 0;
    let skipped = 0;
    for (const sub of this.subs.values()) {
      if (!sub.ready || sub.needsSnapshot || sub.version >= p.version) continue;
      if (sub.version < p.fromVersion) this.sendSnapshot(sub, false);
      else if (sub.watcher.trySend(frame)) {
        sub.version = p.version;
        sent++;
      } else {
        sub.needsSnapshot = true;
        skipped++;
      }
    }
    wsMetrics.framesSent.inc({ type: 'delta' }, sent);
    if (skipped) wsMetrics.slowConsumers.inc({ action: 'skipped' }, skipped);
    const cpu = process.cpuUsage(cpuFrom);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    wsMetrics.broadcastSeconds.observe(cpuMs / 1000);
    if (this.deps.governor.record(cpuMs)) wsMetrics.tickMs.set(this.deps.governor.tickMs);
  }

  /** (Re)loads the map from the service; after a reload every watcher gets a fresh snapshot. */
  private async load(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
    this.early = [];
    this.earlyOverflow = false;
    let mirror: SeatMirror;
    try {
      mirror = new SeatMirror(await this.deps.service.getSeatMap(this.showId));
    } catch (err) {
      this.loading = false;
      if (!this.disposed) this.failOrRetry(asSeatError(err));
      return;
    }
    if (this.disposed) return;
    let contiguous = !this.earlyOverflow;
    for (const d of this.early) {
      if (!contiguous || d.version <= mirror.version) continue;
      if (d.resync || d.fromVersion > mirror.version || d.layoutVersion !== mirror.layoutVersion) contiguous = false;
      else mirror.apply(d);
    }
    this.early = [];
    this.loading = false;
    if (!contiguous) {
      this.failOrRetry(new SeatError(ErrorCode.UNAVAILABLE, 'the seat map kept changing while it loaded'));
      return;
    }
    this.loadAttempts = 0;
    this.mirror = mirror;
    this.ring.clear();
    this.flushedVersion = mirror.version;
    for (const sub of this.subs.values()) {
      if (sub.ready) this.sendSnapshot(sub, false);
      else this.sync(sub);
    }
  }

  private failOrRetry(err: SeatError): void {
    if (err.retryable && ++this.loadAttempts <= MAX_LOAD_ATTEMPTS) {
      this.loading = true; // deltas keep buffering until the retry runs
      setTimeout(
        () => {
          this.loading = false;
          if (!this.disposed) void this.load();
        },
        LOAD_RETRY_BASE_MS * 2 ** (this.loadAttempts - 1),
      ).unref();
      return;
    }
    this.deps.logger.debug({ showId: this.showId, code: err.code }, 'show channel could not load');
    const watchers = [...this.subs.keys()];
    this.subs.clear();
    this.dispose();
    for (const w of watchers) w.subscriptionFailed(this.showId, err);
  }

  private dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.unwatch();
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
    this.mirror = null;
    this.deps.onEmpty(this);
  }

  /** Stops watching without notifying watchers (the gateway is closing). */
  close(): void {
    this.subs.clear();
    this.dispose();
  }
}

function carryOf(sub: Subscription): Carry {
  return { version: sub.version, layoutVersion: sub.layoutVersion, snapshots: sub.snapshots };
}
