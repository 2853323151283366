import { DeliverPolicy, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import { evolve } from '../actors/evolve.ts';
import type { ShowState } from '../actors/show-state.ts';
import { deserializeState, type SerializedState } from '../actors/state-codec.ts';
import type { BookingView } from '../actors/types.ts';
import type { Logger } from '../logger.ts';
import { bookingsChangedBy } from '../projections/booking-rows.ts';
import { EntryAssembler, decodeBatch, partOf } from '../persistence/jetstream-entries.ts';
import { showIdOfToken } from '../persistence/jetstream-event-log.ts';
import type { EventLog, LogEntry, SnapshotStore } from '../core/ports.ts';
import type { Placement } from './placement.ts';
import type { WarmCopy } from '../core/warm-copy.ts';

/** Shows bootstrapped (snapshot + tail) at once; more wait their turn. */
export const DEFAULT_BOOTSTRAP_CONCURRENCY = 8;
/** How often the follower looks for idle copies to drop, at most (as the owner's passivation sweep). */
export const REPLICA_PASSIVATION_SWEEP_MAX_MS = 60_000;

export interface ReplicaFollowerOptions {
  nc: NatsConnection;
  /** The event log the owner appends to (for the snapshot's tail and the show list). */
  log: EventLog;
  /** The JetStream stream and subject prefix of that log. */
  stream: string;
  subjectPrefix: string;
  snapshots: SnapshotStore;
  placement: Placement;
  logger: Logger;
  /** Runs after a copy applied log entries (the expiry index listens here). */
  onApplied?: (showId: string) => void;
  bootstrapConcurrency?: number;
  /**
   * A copy that applied no log entry for this long is dropped (as the owner passivates an idle
   * show); the next entry on its subject, or the ring making this node its replica again,
   * follows it again. Absent or 0: copies are kept as long as this node is their replica.
   */
  passivateAfterMs?: number;
  /** Clock of the idle times (ms). */
  now?: () => number;
}

/** A hot copy of one show at log position `seq`. */
interface Copy {
  kind: 'ready';
  state: ShowState;
  seq: number;
  /**
   * Bookings the copy's last entry with booking changes confirmed or cancelled. Only that
   * entry can lack its Postgres rows: an owner commits a batch's rows before it appends the
   * next one that changes bookings (while rows are owed it refuses booking changes, though
   * holds go on), and a new owner repairs its replayed tail, or owes it, likewise. So whoever
   * takes this copy upserts these first (see src/core/warm-copy.ts).
   */
  lastBookings: BookingView[];
  /** When the copy last applied an entry (or became ready): idle copies are dropped. */
  activeAt: number;
}

interface Loading {
  kind: 'loading';
  /** Entries the live consumer delivered while the snapshot and tail were being read. */
  buffer: LogEntry[];
}

export interface FollowerStats {
  copies: number;
  loading: number;
  /** Copies handed to the actor host for a takeover. */
  taken: number;
  /** Copies rebuilt because an entry did not follow on (a gap) or failed to apply. */
  rebuilt: number;
  /** Entries applied to copies. */
  applied: number;
  /** Copies dropped for being idle (PASSIVATE_AFTER_MS without an entry). */
  passivated: number;
  /** Shows replicated here whose copy was dropped for being idle (followed again on their next entry). */
  idle: number;
}

/**
 * The warm replica: keeps a hot copy of every show whose ring replica is this node, by
 * running `evolve` over the show's log entries as they are appended, so a takeover starts
 * from the copy and replays at most the few entries it had not seen yet.
 *
 * One ordered consumer (no acks, no server-side state beyond the consumer) reads every
 * show's subject from "now" on; entries of shows not replicated here are skipped before
 * they are decoded. A show's copy starts from its newest snapshot plus the log tail (the
 * event log's own reader, which knows the nats-server 2.9 quirks), and entries that arrive
 * meanwhile are buffered and applied after, so no entry is missed or applied twice (each
 * entry must continue the copy's version; otherwise the copy is rebuilt).
 *
 * With `passivateAfterMs`, a copy that saw no entry for that long is dropped, as the owner
 * passivates an idle show; the live consumer stays (it is one for every show), so the show's
 * next entry brings the copy back from snapshot + tail.
 *
 * Concurrency contract: everything runs on the event loop; `take` is synchronous and hands
 * the state object over for good (the follower forgets it at once).
 */
export class ReplicaFollower {
  private readonly copies = new Map<string, Copy | Loading>();
  private readonly logger: Logger;
  private readonly bootstrapQueue: string[] = [];
  private readonly queued = new Set<string>();
  private bootstrapsRunning = 0;
  private messages: ConsumerMessages | null = null;
  private consuming: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  /** Whether the actor host already runs a show here (a copy of it would be stale). */
  private isActiveHere: (showId: string) => boolean = () => false;
  private closed = false;
  private readonly counters = { taken: 0, rebuilt: 0, applied: 0, passivated: 0 };
  /**
   * Shows replicated here whose copy was passivated: a ring change does not bootstrap them
   * again (their next entry does). A show leaves the set when this node stops being its
   * replica, so the ring making it the replica again follows it again at once.
   */
  private readonly idle = new Set<string>();
  private passivation: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  /** Holds the parts of a split batch until its last part (a group that never ends never applies). */
  private readonly assembler = new EntryAssembler();

  constructor(private readonly opts: ReplicaFollowerOptions) {
    this.logger = opts.logger.child({ subsystem: 'replica-follower' });
    this.now = opts.now ?? Date.now;
  }

  /** Starts the live consumer, then bootstraps the copies of every show replicated here. */
  async start(isActiveHere?: (showId: string) => boolean): Promise<void> {
    if (isActiveHere) this.isActiveHere = isActiveHere;
    const js = this.opts.nc.jetstream();
    const consumer = await js.consumers.get(this.opts.stream, {
      filterSubjects: `${this.opts.subjectPrefix}.>`,
      deliver_policy: DeliverPolicy.New,
    });
    // The consumer must exist before any bootstrap reads a tail: entries appended after the
    // tail's end then reach the live stream, into the buffer of the loading copy.
    this.messages = await consumer.consume({ max_messages: 1024 });
    const messages = this.messages;
    this.consuming = (async () => {
      for await (const m of messages) this.onMessage(m);
    })().catch((err: unknown) => {
      if (!this.closed) this.logger.error({ err }, 'replica consumer ended');
    });
    this.unsubscribe = this.opts.placement.onChange(() => void this.reconcile());
    const idleMs = this.opts.passivateAfterMs;
    if (idleMs)
      this.passivation = setInterval(
        () => this.passivateIdle(idleMs),
        Math.min(Math.max(idleMs / 2, 100), REPLICA_PASSIVATION_SWEEP_MAX_MS),
      ).unref();
    await this.reconcile();
  }

  /**
   * Drops ready copies that applied no entry for `idleMs`: a replica holds only the shows that
   * are live, not every show it ever followed. A takeover of a dropped show starts from its
   * snapshot and log tail, as on a node that never followed it. Returns the dropped show ids.
   */
  passivateIdle(idleMs: number): string[] {
    const now = this.now();
    const dropped: string[] = [];
    for (const [showId, copy] of this.copies) {
      if (copy.kind !== 'ready' || now - copy.activeAt < idleMs) continue;
      this.copies.delete(showId);
      this.idle.add(showId);
      dropped.push(showId);
    }
    if (dropped.length) {
      this.counters.passivated += dropped.length;
      this.logger.debug({ shows: dropped.length }, 'idle replica copies dropped');
    }
    return dropped;
  }

  /**
   * Brings the set of copies in line with the ring: bootstraps shows replicated here, keeps
   * copies of shows this node now owns until the host takes them, drops the rest.
   */
  async reconcile(): Promise<void> {
    if (this.closed) return;
    const self = this.opts.placement.selfId;
    for (const showId of [...this.copies.keys()]) if (!this.wanted(showId, self)) this.copies.delete(showId);
    for (const showId of this.idle) if (self === null || this.opts.placement.replica(showId) !== self) this.idle.delete(showId);
    let showIds: string[];
    try {
      showIds = await this.opts.log.showIds();
    } catch (err) {
      this.logger.warn({ err }, 'listing shows failed; copies follow the next ring change');
      return;
    }
    for (const showId of showIds)
      if (this.opts.placement.replica(showId) === self && !this.copies.has(showId) && !this.idle.has(showId)) this.enqueue(showId);
  }

  private wanted(showId: string, self: string | null): boolean {
    if (self === null) return false;
    if (this.opts.placement.replica(showId) === self) return true;
    // Kept for the takeover: the ownership manager activates it, which takes it.
    return this.opts.placement.owner(showId) === self && !this.isActiveHere(showId);
  }

  /**
   * The ActorHost `warmState` hook: the copy of the show, handed over (the follower drops
   * it), or null when there is none ready. The host replays the log after `seq`, so a copy
   * that missed the last entries is still correct; a copy is never ahead of the log.
   */
  take(showId: string): WarmCopy | null {
    const copy = this.copies.get(showId);
    if (copy?.kind !== 'ready') return null;
    this.copies.delete(showId);
    this.counters.taken++;
    this.logger.debug({ showId, seq: copy.seq }, 'warm copy handed over');
    return { state: copy.state, seq: copy.seq, ...(copy.lastBookings.length ? { bookings: copy.lastBookings } : {}) };
  }

  /** Read-only access to a ready copy (tests compare it with the owner's state). */
  peek<T>(showId: string, fn: (copy: { state: ShowState; seq: number }) => T): T | undefined {
    const copy = this.copies.get(showId);
    return copy?.kind === 'ready' ? fn(copy) : undefined;
  }

  /** Where the follower is with a show: a ready copy, one loading, dropped for being idle, or none. */
  followState(showId: string): 'ready' | 'loading' | 'idle' | null {
    const copy = this.copies.get(showId);
    if (copy) return copy.kind;
    return this.idle.has(showId) ? 'idle' : null;
  }

  /** Shows with a ready copy. */
  readyShowIds(): string[] {
    return [...this.copies].filter(([, c]) => c.kind === 'ready').map(([id]) => id);
  }

  stats(): FollowerStats {
    let copies = 0;
    let loading = 0;
    for (const c of this.copies.values()) c.kind === 'ready' ? copies++ : loading++;
    return { copies, loading, ...this.counters, idle: this.idle.size };
  }

  private onMessage(m: JsMsg): void {
    const showId = showIdOfToken(m.subject.slice(this.opts.subjectPrefix.length + 1));
    const copy = this.copies.get(showId);
    if (!copy) {
      if (this.opts.placement.replica(showId) !== this.opts.placement.selfId || this.opts.placement.selfId === null) return;
      const entry = this.decode(showId, m);
      if (!entry) return;
      // An idle show woke up (or a show this node never followed): follow it again.
      this.idle.delete(showId);
      // A new show starts from its first entry; any other unknown show from its snapshot.
      if (entry.firstVersion === 1 && entry.events[0]?.type === 'ShowCreated') this.applyFresh(showId, entry);
      else {
        this.enqueue(showId);
        const loading = this.copies.get(showId);
        if (loading?.kind === 'loading') loading.buffer.push(entry);
      }
      return;
    }
    const entry = this.decode(showId, m);
    if (!entry) return;
    if (copy.kind === 'loading') copy.buffer.push(entry);
    else this.apply(showId, copy, entry);
  }

  private decode(showId: string, m: JsMsg): LogEntry | null {
    try {
      const stored = decodeBatch(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
      return this.assembler.push(showId, m.seq, stored, partOf(m.headers));
    } catch (err) {
      this.logger.error({ err, showId, seq: m.seq }, 'undecodable log entry; dropping the copy');
      this.copies.delete(showId);
      return null;
    }
  }

  /** The copy of a show created while this node was already its replica. */
  private applyFresh(showId: string, entry: LogEntry): void {
    try {
      let state: ShowState | null = null;
      for (const e of entry.events) state = evolve(state, e);
      const s = state as ShowState;
      s.logSeq = entry.seq;
      this.copies.set(showId, { kind: 'ready', state: s, seq: entry.seq, lastBookings: [], activeAt: this.now() });
      this.counters.applied++;
      this.opts.onApplied?.(showId);
    } catch (err) {
      this.logger.warn({ err, showId }, 'applying a new show failed; rebuilding its copy');
      this.copies.delete(showId);
      this.enqueue(showId);
    }
  }

  /** Applies one entry to a ready copy; returns false (and schedules a rebuild) when it does not follow on. */
  private apply(showId: string, copy: Copy, entry: LogEntry): boolean {
    if (entry.seq <= copy.seq) return true;
    const isCreate = entry.events[0]?.type === 'ShowCreated';
    if (entry.firstVersion !== copy.state.version + 1 && !isCreate) {
      this.logger.warn(
        { showId, seq: entry.seq, firstVersion: entry.firstVersion, version: copy.state.version },
        'gap in a replica copy; rebuilding it',
      );
      this.rebuild(showId);
      return false;
    }
    try {
      let state: ShowState | null = copy.state;
      for (const e of entry.events) state = evolve(state, e);
      copy.state = state as ShowState;
    } catch (err) {
      this.logger.warn({ err, showId, seq: entry.seq }, 'applying an entry failed; rebuilding the copy');
      this.rebuild(showId);
      return false;
    }
    copy.seq = entry.seq;
    copy.state.logSeq = entry.seq;
    const changed = bookingsOfEntry(entry, copy.state);
    if (changed.length) copy.lastBookings = changed;
    copy.activeAt = this.now();
    this.counters.applied++;
    this.opts.onApplied?.(showId);
    return true;
  }

  private rebuild(showId: string): void {
    this.counters.rebuilt++;
    this.copies.delete(showId);
    this.enqueue(showId);
  }

  private enqueue(showId: string): void {
    if (this.closed || this.queued.has(showId)) return;
    // Marked loading now, so entries from here on are buffered rather than lost.
    this.copies.set(showId, { kind: 'loading', buffer: [] });
    this.queued.add(showId);
    this.bootstrapQueue.push(showId);
    this.pump();
  }

  private pump(): void {
    const limit = this.opts.bootstrapConcurrency ?? DEFAULT_BOOTSTRAP_CONCURRENCY;
    while (this.bootstrapsRunning < limit && this.bootstrapQueue.length > 0) {
      const showId = this.bootstrapQueue.shift() as string;
      this.bootstrapsRunning++;
      void this.bootstrap(showId).finally(() => {
        this.bootstrapsRunning--;
        this.queued.delete(showId);
        this.pump();
      });
    }
  }

  private async bootstrap(showId: string): Promise<void> {
    const loading = this.copies.get(showId);
    if (this.closed || loading?.kind !== 'loading') return;
    try {
      const snapshot = await this.opts.snapshots.load(showId);
      let state: ShowState | null = snapshot ? deserializeState(snapshot.state as SerializedState) : null;
      let seq = snapshot?.logSeq ?? 0;
      let last: LogEntry | null = null;
      for await (const entry of this.opts.log.read(showId, seq)) {
        for (const e of entry.events) state = evolve(state, e);
        seq = entry.seq;
        if (entry.events.some((e) => e.type === 'BookingConfirmed' || e.type === 'BookingCancelled')) last = entry;
      }
      // Dropped meanwhile (ring change, or the host took over the show): nothing to keep.
      if (this.copies.get(showId) !== loading) return;
      if (!state) {
        this.copies.delete(showId);
        return;
      }
      state.logSeq = seq;
      const copy: Copy = { kind: 'ready', state, seq, lastBookings: last ? bookingsOfEntry(last, state) : [], activeAt: this.now() };
      this.copies.set(showId, copy);
      for (const entry of loading.buffer) if (!this.apply(showId, copy, entry)) return;
      this.opts.onApplied?.(showId);
      this.logger.debug({ showId, seq, buffered: loading.buffer.length }, 'replica copy ready');
    } catch (err) {
      if (this.copies.get(showId) === loading) this.copies.delete(showId);
      this.logger.warn({ err, showId }, 'replica bootstrap failed; retrying on the next ring change');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.passivation) clearInterval(this.passivation);
    this.unsubscribe?.();
    this.messages?.stop();
    await this.consuming;
    this.copies.clear();
    this.idle.clear();
  }
}

function bookingsOfEntry(entry: LogEntry, state: ShowState): BookingView[] {
  if (!entry.events.some((e) => e.type === 'BookingConfirmed' || e.type === 'BookingCancelled')) return [];
  return bookingsChangedBy({ showId: entry.showId, seq: entry.seq, firstVersion: entry.firstVersion, events: entry.events, state });
}
