import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ErrorCode, SeatError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { BookingStore, EventLog, LogEntry, SnapshotStore } from '../core/ports.ts';
import type { ReplayedTail } from '../core/replayed-tail.ts';
import type { WarmCopySource } from '../core/warm-copy.ts';
import { trackActorHost } from './actor-metrics.ts';
import { evolve } from './evolve.ts';
import type { DecideOptions } from './decide.ts';
import { anythingDue, dueToForget, FORGET_MARGIN_MS } from './forgetting.ts';
import { retentionMs } from './idempotency.ts';
import {
  ActorStoppedError,
  DEFAULT_MAILBOX_MAX_COMMANDS,
  ShowActor,
  StopRequested,
  type BookingRowGuard,
  type CommittedBatch,
  type OwnerCheckResult,
  type SendOptions,
} from './show-actor.ts';
import type { ShowState } from './show-state.ts';
import { deserializeState, serializeState, type SerializedState } from './state-codec.ts';
import type { CommandReply, ShowCommand } from './types.ts';
import { bookingView } from './views.ts';

export interface ActorHostOptions {
  log: EventLog;
  snapshots: SnapshotStore;
  logger: Logger;
  now?: () => number;
  /** Listeners run synchronously after every commit, in commit order per show. */
  onCommitted?: (batch: CommittedBatch) => void;
  /** See ShowActorDeps.beforeReply. */
  beforeReply?: (batch: CommittedBatch) => Promise<void>;
  /** See ShowActorDeps.bookingRows; also keeps snapshots back while a show owes rows. */
  bookingRows?: BookingRowGuard;
  snapshotEveryEvents?: number;
  snapshotEveryMs?: number;
  maxBatch?: number;
  /** Batches of one show in flight to the log at once (see ShowActorDeps.pipelineDepth; default 1). */
  pipelineDepth?: number;
  /** Most commands waiting per show (see DEFAULT_MAILBOX_MAX_COMMANDS). */
  maxMailbox?: number;
  /** Node settings decisions depend on (idempotency retention). */
  decideOptions?: DecideOptions;
  /**
   * A hot copy of a show kept elsewhere in this process (a warm replica). When it returns a
   * copy, activation starts from it instead of the snapshot and replays only the log after
   * its seq. The host takes ownership of the returned state object. A source that starts
   * after the host (the cluster's replica follower) registers with `useWarmCopies` instead.
   */
  warmState?: WarmCopySource;
  /**
   * Runs after a load has read the show's tail and before the actor serves anything (or the
   * start-up scan snapshots the show); awaited, and a rejection fails the activation. For
   * what a tail owes the world outside the log: booking rows, out-events (src/node.ts runs
   * them in order). `state` is the rebuilt state (null: no such show); do not change it.
   */
  afterReplay?: (showId: string, tail: ReplayedTail, state: ShowState | null) => Promise<void>;
  /**
   * Where long-cancelled bookings are written before a show forgets them (forgetting.ts).
   * Absent: shows keep their bookings (they still forget ended holds).
   */
  archive?: Pick<BookingStore, 'upsert'>;
  /** See ShowActorDeps.verifyWindowMs: answers from memory no older than this against the log. */
  ownerVerifyWindowMs?: number;
  /** See ShowActorDeps.beforeTimer: asked before a hold-expiry timer writes. */
  beforeTimer?: (showId: string) => Promise<boolean>;
}

export const DEFAULT_SNAPSHOT_EVERY_EVENTS = 5_000;
export const DEFAULT_SNAPSHOT_EVERY_MS = 60_000;
/** What a caller is told to wait when a show cannot be rebuilt without its snapshot. */
const SNAPSHOT_UNREACHABLE_RETRY_AFTER_SECONDS = 1;
/** A wake-up whose activation failed (log away) tries again after this long. */
const WAKE_RETRY_MS = 1_000;
/** Shows loaded at once while looking for held shows at start. */
const START_SCAN_CONCURRENCY = 4;

interface SnapshotTrack {
  eventsSince: number;
  lastAt: number;
  writing: Promise<void> | null;
}

/**
 * Keeps the show actors of this process: activates a show on first use (snapshot, then the
 * log after it), routes commands and reads to it, snapshots it now and then, and drops an
 * actor that stopped so the next command activates a fresh one from the durable log.
 */
export class ActorHost {
  private readonly actors = new Map<string, ShowActor>();
  private readonly activating = new Map<string, Promise<ShowActor>>();
  private readonly snapshotTracks = new Map<string, SnapshotTrack>();
  /** Passivated shows with holds, woken when their first hold is due. */
  private readonly wakeTimers = new Map<string, NodeJS.Timeout>();
  private readonly opts: Required<
    Omit<
      ActorHostOptions,
      'onCommitted' | 'beforeReply' | 'warmState' | 'afterReplay' | 'archive' | 'ownerVerifyWindowMs' | 'beforeTimer' | 'bookingRows'
    >
  > &
    Pick<
      ActorHostOptions,
      'onCommitted' | 'beforeReply' | 'warmState' | 'afterReplay' | 'archive' | 'ownerVerifyWindowMs' | 'beforeTimer' | 'bookingRows'
    >;
  /** Shows with a housekeeping pass (archive, then forget) in flight. */
  private readonly forgetting = new Set<string>();
  /** Shows loaded (snapshot or warm copy, then the log) since start. */
  private activations = 0;
  /** Checks of answers from memory against the log since start, by outcome. */
  private readonly ownerChecks: Record<OwnerCheckResult, number> = { same: 0, moved: 0, failed: 0 };
  private readonly logger: Logger;
  private closing = false;
  /** Actors the host stopped on purpose (passivation, close); any other stop wakes the show for its holds. */
  private readonly deliberateStops = new WeakSet<ShowActor>();

  constructor(opts: ActorHostOptions) {
    this.opts = {
      now: Date.now,
      snapshotEveryEvents: DEFAULT_SNAPSHOT_EVERY_EVENTS,
      snapshotEveryMs: DEFAULT_SNAPSHOT_EVERY_MS,
      maxBatch: 512,
      pipelineDepth: 1,
      maxMailbox: DEFAULT_MAILBOX_MAX_COMMANDS,
      decideOptions: {},
      ...opts,
    };
    this.logger = opts.logger.child({ subsystem: 'actor-host' });
    trackActorHost(this);
  }

  /**
   * Sets where activations take warm copies from, for a source that exists only once the
   * host does (the replica follower reads through it). Set before the process serves shows.
   */
  useWarmCopies(source: WarmCopySource): void {
    this.opts.warmState = source;
  }

  /** Counts for metrics and readiness. */
  stats(): { activeShows: number; activeHolds: number; activations: number; ownerChecks: Record<OwnerCheckResult, number> } {
    let activeHolds = 0;
    for (const a of this.actors.values()) activeHolds += a.activeHolds;
    return { activeShows: this.actors.size, activeHolds, activations: this.activations, ownerChecks: { ...this.ownerChecks } };
  }

  /** A show's queue and tracked hold deadlines, null when it has no actor here (tests, metrics). */
  actorLoad(showId: string): { mailbox: number; deadlines: number } | null {
    const actor = this.actors.get(showId);
    return actor && !actor.isStopped ? { mailbox: actor.mailboxLength, deadlines: actor.trackedDeadlines } : null;
  }

  /** Shows with an actor in memory. */
  get activeShowIds(): string[] {
    return [...this.actors.keys()];
  }

  /**
   * Sends a command to the show's actor. A command that never reached a decision is resent
   * once to a fresh actor. With `deadline`, a command not decided by then is dropped undone.
   */
  async execute(showId: string, cmd: ShowCommand, opts: SendOptions = {}): Promise<CommandReply> {
    for (let attempt = 0; ; attempt++) {
      const actor = await this.actorFor(showId, cmd.type === 'createShow');
      try {
        return await actor.send(cmd, opts);
      } catch (err) {
        if (!(err instanceof ActorStoppedError) || attempt >= 1 || err.code === ErrorCode.NOT_OWNER || this.closing) throw err;
      }
    }
  }

  /**
   * Runs `fn` on the show's committed state. SHOW_NOT_FOUND when the show does not exist.
   * An answer for a client (`verify`, the default) is confirmed against the log when the
   * actor has not been within the verify window; `verify: false` for the process's own use.
   */
  async read<T>(showId: string, fn: (state: ShowState) => T, opts: { verify?: boolean } = {}): Promise<T> {
    const actor = await this.actorFor(showId, false);
    return actor.read(
      (state) => {
        if (!state) throw new SeatError(ErrorCode.SHOW_NOT_FOUND, 'no such show');
        return fn(state);
      },
      { verify: opts.verify !== false },
    );
  }

  private async actorFor(showId: string, create: boolean): Promise<ShowActor> {
    if (this.closing) throw new SeatError(ErrorCode.UNAVAILABLE, 'shutting down');
    const existing = this.actors.get(showId);
    if (existing && !existing.isStopped) return existing;
    let pending = this.activating.get(showId);
    if (!pending) {
      // A stopped actor's appends still on their way land before the fresh one reads the log.
      const before = existing ? existing.settled : Promise.resolve();
      pending = before.then(() => this.activate(showId)).finally(() => this.activating.delete(showId));
      this.activating.set(showId, pending);
    }
    const actor = await pending;
    if (!create && (await actor.read((s) => s === null))) {
      // Keep no actor for a show that does not exist: unknown ids must not fill memory.
      if (this.actors.get(showId) === actor && !actor.isStopped) {
        this.actors.delete(showId);
        actor.stop();
      }
      throw new SeatError(ErrorCode.SHOW_NOT_FOUND, 'no such show');
    }
    return actor;
  }

  /**
   * Rebuilds a show from its newest snapshot and the log after it. When the snapshot store
   * cannot be read, from the whole log instead: the log alone is the show. If the log was
   * compacted below a snapshot that cannot be read, the show cannot be rebuilt now: the load
   * fails UNAVAILABLE (retryable) rather than start from a partial history.
   */
  async load(showId: string): Promise<{ state: ShowState | null; seq: number; replayed: number; warm: boolean }> {
    const warm = this.opts.warmState?.(showId) ?? null;
    let snapshot = null;
    let withoutSnapshot = false;
    if (!warm) {
      try {
        snapshot = await this.opts.snapshots.load(showId);
      } catch (err) {
        if (!(err instanceof SeatError) || err.code !== ErrorCode.UNAVAILABLE) throw err;
        this.logger.warn({ showId, err }, 'snapshot store unreachable; replaying the whole log');
        withoutSnapshot = true;
      }
    }
    let state: ShowState | null = warm ? warm.state : snapshot ? deserializeState(snapshot.state as SerializedState) : null;
    let seq = warm ? warm.seq : (snapshot?.logSeq ?? 0);
    let replayed = 0;
    const afterSeq = seq;
    const entries: LogEntry[] = [];
    for await (const entry of this.opts.log.read(showId, seq)) {
      if (this.opts.afterReplay) entries.push(entry);
      const expected = (state?.version ?? 0) + 1;
      if (withoutSnapshot && state === null && entry.firstVersion !== 1)
        throw new SeatError(
          ErrorCode.UNAVAILABLE,
          `the log of ${showId} was compacted below its snapshot and the snapshot store is unreachable; retry`,
          { retryAfterSeconds: SNAPSHOT_UNREACHABLE_RETRY_AFTER_SECONDS },
        );
      if (entry.firstVersion !== expected && entry.events[0]?.type !== 'ShowCreated')
        throw new SeatError(
          ErrorCode.INTERNAL,
          `log entry ${entry.seq} of ${showId} starts at version ${entry.firstVersion}, expected ${expected}`,
        );
      for (const e of entry.events) state = evolve(state, e);
      seq = entry.seq;
      replayed += entry.events.length;
    }
    if (state) state.logSeq = seq;
    await this.opts.afterReplay?.(showId, { afterSeq, entries, warm }, state);
    return { state, seq, replayed, warm: warm !== null };
  }

  private async activate(showId: string): Promise<ShowActor> {
    const started = this.opts.now();
    clearTimeout(this.wakeTimers.get(showId));
    this.wakeTimers.delete(showId);
    const loadStartedAt = performance.now();
    const { state, seq, replayed, warm } = await this.load(showId);
    this.activations++;
    const actor = new ShowActor(showId, state, seq, {
      log: this.opts.log,
      now: this.opts.now,
      newBatchId: randomUUID,
      maxBatch: this.opts.maxBatch,
      pipelineDepth: this.opts.pipelineDepth,
      maxMailbox: this.opts.maxMailbox,
      decideOptions: this.opts.decideOptions,
      logger: this.logger,
      verifiedAt: loadStartedAt,
      onOwnerCheck: (result) => this.ownerChecks[result]++,
      ...(this.opts.ownerVerifyWindowMs !== undefined ? { verifyWindowMs: this.opts.ownerVerifyWindowMs } : {}),
      ...(this.opts.beforeTimer ? { beforeTimer: this.opts.beforeTimer } : {}),
      onCommitted: (batch) => this.committed(batch),
      ...(this.opts.beforeReply ? { beforeReply: this.opts.beforeReply } : {}),
      ...(this.opts.bookingRows ? { bookingRows: this.opts.bookingRows } : {}),
      onStopped: (id, reason) => {
        if (this.actors.get(id) === actor) this.actors.delete(id);
        if (!(reason instanceof StopRequested)) this.logger.warn({ showId: id, code: reason.code }, 'show actor stopped');
        // A stop on a failed append takes the expiry timers with it; nobody may touch the show
        // again, so the host wakes it at its first deadline. Fenced out (NOT_OWNER): the new
        // owner runs the timers.
        if (!this.deliberateStops.has(actor) && reason.code !== ErrorCode.NOT_OWNER && !this.closing) {
          const next = actor.nextHoldDeadline;
          if (next !== Infinity) this.wakeAt(id, next);
        }
      },
    });
    this.actors.set(showId, actor);
    if (state) {
      this.snapshotTracks.set(showId, { eventsSince: replayed, lastAt: this.opts.now(), writing: null });
      this.logger.debug({ showId, seq, replayed, warm, ms: this.opts.now() - started }, 'show activated');
    }
    return actor;
  }

  private committed(batch: CommittedBatch): void {
    const track = this.snapshotTracks.get(batch.showId) ?? { eventsSince: 0, lastAt: this.opts.now(), writing: null };
    this.snapshotTracks.set(batch.showId, track);
    track.eventsSince += batch.events.length;
    const due = track.eventsSince >= this.opts.snapshotEveryEvents || this.opts.now() - track.lastAt >= this.opts.snapshotEveryMs;
    if (due && !track.writing) this.writeSnapshot(batch.showId, batch.state, track);
    this.forgetEnded(batch);
    this.opts.onCommitted?.(batch);
  }

  /**
   * Housekeeping on commit: when the show's oldest cancelled booking or ended hold is past
   * the key retention (plus a margin), archive the due bookings, then have the actor forget
   * them with an event (so replicas and recovery forget the same records). One pass per show
   * at a time; a failed pass is retried on a later commit. Idle shows do nothing (they
   * passivate instead).
   */
  private forgetEnded(batch: CommittedBatch): void {
    const { showId, state } = batch;
    if (this.forgetting.has(showId) || this.closing) return;
    const cutoff = this.opts.now() - retentionMs(state.def, this.opts.decideOptions.idempotencyRetentionSeconds) - FORGET_MARGIN_MS;
    const archive = this.opts.archive;
    if (!anythingDue(state, cutoff, archive !== undefined)) return;
    const due = dueToForget(state, cutoff, archive !== undefined);
    const bookings = due.bookings.map((b) => bookingView(state, b));
    if (!bookings.length && !due.holdIds.length) return;
    this.forgetting.add(showId);
    void (async () => {
      if (bookings.length) await archive?.upsert(bookings);
      const actor = this.actors.get(showId);
      if (!actor || actor.isStopped) return;
      await actor.send({ type: 'forgetEnded', bookingIds: bookings.map((b) => b.bookingId), holdIds: due.holdIds });
    })()
      .catch((err: unknown) => this.logger.warn({ err, showId }, 'forgetting ended bookings and holds failed; retried on a later commit'))
      .finally(() => this.forgetting.delete(showId));
  }

  private writeSnapshot(showId: string, state: ShowState, track: SnapshotTrack): Promise<void> {
    // A snapshot covering a booking whose row is not written would lose that row for good if
    // the process then died: the repair at activation reads only the log after the snapshot.
    if (this.opts.bookingRows?.owesRows(showId)) return Promise.resolve();
    // Serialize now, synchronously, so the snapshot is exactly the committed state.
    const snapshot = { showId, version: state.version, logSeq: state.logSeq, state: serializeState(state) };
    track.eventsSince = 0;
    track.lastAt = this.opts.now();
    track.writing = this.opts.snapshots
      .save(snapshot)
      .then(() => undefined)
      .catch((err: unknown) => this.logger.warn({ err, showId }, 'snapshot failed'))
      .finally(() => {
        track.writing = null;
      });
    return track.writing;
  }

  /** Drains a show and writes its snapshot now. */
  async snapshot(showId: string): Promise<void> {
    const actor = this.actors.get(showId);
    if (!actor || actor.isStopped) return;
    await actor.idle();
    const track = this.snapshotTracks.get(showId) ?? { eventsSince: 0, lastAt: 0, writing: null };
    this.snapshotTracks.set(showId, track);
    if (track.writing) await track.writing;
    await actor.read((state) => (state ? this.writeSnapshot(showId, state, track) : undefined));
  }

  /**
   * Activates a show now (no command needed), e.g. on takeover so its hold timers run.
   * Resolves false when the show does not exist.
   */
  async ensureActive(showId: string): Promise<boolean> {
    try {
      await this.actorFor(showId, false);
      return true;
    } catch (err) {
      if (err instanceof SeatError && err.code === ErrorCode.SHOW_NOT_FOUND) return false;
      throw err;
    }
  }

  /** Whether the show has a live actor in this process. */
  isActive(showId: string): boolean {
    const actor = this.actors.get(showId);
    return actor !== undefined && !actor.isStopped;
  }

  /** Snapshots and drops shows idle for longer than `idleMs`; they reactivate on demand. */
  async passivateIdle(idleMs: number): Promise<string[]> {
    const now = this.opts.now();
    const idle = [...this.actors.values()].filter((a) => now - a.idleSince >= idleMs);
    for (const actor of idle) await this.passivate(actor.showId);
    return idle.map((a) => a.showId);
  }

  /**
   * Drains, snapshots and drops a show. `wake: false` when it leaves for another owner
   * (handover): the new owner runs its hold timers, so this process must not wake it.
   */
  async passivate(showId: string, opts: { wake?: boolean } = {}): Promise<void> {
    const actor = this.actors.get(showId);
    if (!actor) return;
    await this.snapshot(showId);
    await actor.idle();
    const nextExpiry = actor.nextHoldDeadline;
    this.deliberateStops.add(actor);
    actor.stop();
    this.actors.delete(showId);
    this.snapshotTracks.delete(showId);
    // The expiry timers left with the actor: wake the show when its first hold is due.
    if (nextExpiry !== Infinity && !this.closing && opts.wake !== false) this.wakeAt(showId, nextExpiry);
  }

  /**
   * Start-up pass over the stored shows (the embedded store has no cluster expiry index):
   * wakes each show that holds seats at its first deadline, so holds expire on time after a
   * restart without anyone touching the show, and snapshots each show whose snapshot lags
   * its log, so no show pins old log segments until someone happens to use it. Loads each
   * show once; keeps no actor.
   */
  async startShows(showIds: string[]): Promise<{ woken: number; snapshotted: number }> {
    let woken = 0;
    let snapshotted = 0;
    const queue = [...showIds];
    const worker = async () => {
      for (let showId = queue.shift(); showId !== undefined && !this.closing; showId = queue.shift()) {
        if (this.isActive(showId) || this.wakeTimers.has(showId)) continue;
        try {
          const { state, seq, replayed } = await this.load(showId);
          if (state && replayed > 0 && !this.closing && !this.isActive(showId)) {
            if (await this.opts.snapshots.save({ showId, version: state.version, logSeq: seq, state: serializeState(state) }))
              snapshotted++;
          }
          let next = Infinity;
          for (const hold of state?.holds.values() ?? []) if (hold.expiresAt < next) next = hold.expiresAt;
          if (next === Infinity || this.closing || this.isActive(showId)) continue;
          this.wakeAt(showId, next);
          woken++;
        } catch (err) {
          this.logger.warn({ err, showId }, 'could not look for holds at start; the show wakes on its next command');
        }
      }
    };
    await Promise.all(Array.from({ length: START_SCAN_CONCURRENCY }, worker));
    if (woken || snapshotted) this.logger.info({ woken, snapshotted }, 'stored shows prepared: held ones wake at their first deadline');
    return { woken, snapshotted };
  }

  private wakeAt(showId: string, at: number): void {
    if (this.closing) return;
    clearTimeout(this.wakeTimers.get(showId));
    const timer = setTimeout(
      () => {
        this.wakeTimers.delete(showId);
        this.ensureActive(showId).catch((err: unknown) => {
          this.logger.warn({ err, showId }, 'waking a show for its holds failed; will retry');
          this.wakeAt(showId, this.opts.now() + WAKE_RETRY_MS);
        });
      },
      Math.min(Math.max(0, at - this.opts.now()), 2 ** 31 - 1),
    );
    timer.unref();
    this.wakeTimers.set(showId, timer);
  }

  /**
   * Stops every actor at once, without draining or snapshotting: their in-memory state may be
   * stale (another owner wrote meanwhile). The next command activates a fresh one from the log.
   * Returns how many were dropped.
   */
  dropAll(): number {
    const actors = [...this.actors.values()];
    for (const actor of actors) actor.stop(new SeatError(ErrorCode.NOT_OWNER, 'show dropped: ownership lease lapsed'));
    this.actors.clear();
    this.snapshotTracks.clear();
    return actors.length;
  }

  /** Drains every show, writes their snapshots, and stops accepting commands. */
  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.wakeTimers.values()) clearTimeout(timer);
    this.wakeTimers.clear();
    await Promise.all(this.activating.values());
    for (const showId of [...this.actors.keys()]) {
      try {
        await this.snapshot(showId);
      } catch (err) {
        this.logger.warn({ err, showId }, 'final snapshot failed');
      }
      const actor = this.actors.get(showId);
      if (actor) this.deliberateStops.add(actor);
      actor?.stop();
    }
    this.actors.clear();
  }

  /** The log and snapshots shows are loaded from. */
  get sources(): { log: EventLog; snapshots: SnapshotStore } {
    return { log: this.opts.log, snapshots: this.opts.snapshots };
  }
}
