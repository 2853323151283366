import { performance } from 'node:perf_hooks';
import { ErrorCode, SeatError, asSeatError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { EventLog } from '../persistence/ports.ts';
import { observeExpiryLag, recordCommitted, timedAppend } from './actor-metrics.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import { decide, type DecideOptions } from './decide.ts';
import { evolve } from './evolve.ts';
import type { ShowState } from './show-state.ts';
import type { BookingView, CommandReply, ShowCommand, ShowEvent } from './types.ts';

/** Most commands decided together and committed as one log append. */
export const DEFAULT_MAX_BATCH = 512;
/**
 * A command deciding more events than this, and the show-wide admin changes (rare, and the
 * ones whose single event can be big), commit in a batch of their own: if the log refuses
 * such a batch (too big even split) or its multi-part append fails, no other customer's
 * command fails with it.
 */
export const DEFAULT_LONE_COMMAND_EVENTS = 1024;
const LONE_COMMANDS: ReadonlySet<ShowCommand['type']> = new Set(['cancelShow', 'changeShow']);
/**
 * Most commands waiting in one show's mailbox; past it callers get a retryable UNAVAILABLE.
 * About twenty full batches: a queue longer than that only adds waiting, not throughput.
 */
export const DEFAULT_MAILBOX_MAX_COMMANDS = 10_000;
/** What a caller turned away by a full mailbox is told to wait. */
export const MAILBOX_FULL_RETRY_AFTER_SECONDS = 1;
/** setTimeout cannot wait longer than this (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A batch that reached the log, handed to whoever publishes deltas, events and snapshots. */
export interface CommittedBatch {
  showId: string;
  seq: number;
  firstVersion: number;
  events: ShowEvent[];
  /** The state after the batch. Read it synchronously; it changes with the next batch. */
  state: ShowState;
}

export interface ShowActorDeps {
  log: EventLog;
  now: () => number;
  newBatchId: () => string;
  onCommitted: (batch: CommittedBatch) => void;
  /**
   * Runs after the append and before any caller hears back (e.g. committing booking rows to
   * Postgres). If it rejects without `bookingRows`, callers get UNAVAILABLE and the actor stops,
   * as for a failed append. With `bookingRows`, the batch stands (it is in the log): the actor
   * goes on, and only the replies `bookingRows` holds back fail.
   */
  beforeReply?: (batch: CommittedBatch) => Promise<void>;
  /** Keeps answers about bookings back while their rows are not written (see BookingRowGuard). */
  bookingRows?: BookingRowGuard;
  /** Called once when the actor stops for good (fenced out, or its log append failed). */
  onStopped: (showId: string, reason: SeatError) => void;
  logger: Logger;
  maxBatch?: number;
  /** See DEFAULT_MAILBOX_MAX_COMMANDS. */
  maxMailbox?: number;
  /** Node settings decisions depend on (idempotency retention). */
  decideOptions?: DecideOptions;
  /**
   * An answer that changes nothing (a read, a refusal such as HOLD_NOT_FOUND, an idempotent
   * replay) comes from memory only if this actor appended, or found the log's last seq to be
   * its own, within this many ms; otherwise it checks the log first and stops (NOT_OWNER) if
   * another writer appended meanwhile. 0: check every time; undefined: never (one process).
   */
  verifyWindowMs?: number;
  /** performance.now() when the state was read from the log (activation); default: construction. */
  verifiedAt?: number;
  /**
   * Asked before a hold-expiry timer writes: false puts the timer off (this process is not
   * sure it still owns the show, e.g. it just woke from a pause); it is asked again later.
   */
  beforeTimer?: (showId: string) => Promise<boolean>;
  /** Told the outcome of every check against the log (metrics). */
  onOwnerCheck?: (result: OwnerCheckResult) => void;
}

/** same: the log's last seq was this actor's; moved: someone else wrote; failed: the log did not answer. */
export type OwnerCheckResult = 'same' | 'moved' | 'failed';

/** A hold-expiry timer put off by beforeTimer runs again after this long. */
const TIMER_RECHECK_MS = 250;

/**
 * What the actor asks before committing or answering anything about bookings, when their
 * rows live in a store that can be down (Postgres) while the log is up.
 */
export interface BookingRowGuard {
  /** Why booking changes of this show cannot be committed now, or null when they can. */
  refusal(showId: string): SeatError | null;
  /** The error to answer instead of a reply naming a booking whose row is not written, or null. */
  owed(showId: string, bookingId: string): SeatError | null;
  /** Whether some booking row of this show is not written yet (no snapshot may cover it then). */
  owesRows(showId: string): boolean;
}

const BOOKING_EVENTS: ReadonlySet<ShowEvent['type']> = new Set(['BookingConfirmed', 'BookingCancelled']);

/** The bookings a reply names (a confirm, a cancellation, refunds). */
function bookingsOfReply(reply: CommandReply): BookingView[] {
  switch (reply.type) {
    case 'confirm':
      return [reply.booking];
    case 'cancelBookings':
      return reply.bookings;
    case 'cancelShow':
      return reply.refunds;
    case 'changeShow':
      return reply.cancelledBookings;
    default:
      return [];
  }
}

/** How a caller sends a command. */
export interface SendOptions {
  /**
   * Epoch ms after which the caller no longer waits for the answer. A command still in the
   * mailbox then is dropped before it is decided (DEADLINE_EXCEEDED): nothing is done for
   * nobody, and the caller may retry with its idempotency key.
   */
  deadline?: number;
}

/** Thrown to commands still waiting in the mailbox of an actor that stopped: never decided, safe to resend. */
export class ActorStoppedError extends SeatError {
  constructor(cause: SeatError) {
    super(cause.code === ErrorCode.NOT_OWNER ? ErrorCode.NOT_OWNER : ErrorCode.UNAVAILABLE, 'show actor stopped', {}, { cause });
  }
}

/** The reason of a stop asked for in the ordinary course (passivation, handover, shutdown), not forced by a failure. */
export class StopRequested extends SeatError {
  constructor() {
    super(ErrorCode.UNAVAILABLE, 'show actor stopped');
  }
}

interface Pending {
  cmd: ShowCommand;
  deadline: number | undefined;
  resolve: (reply: CommandReply) => void;
  reject: (err: SeatError) => void;
}

/**
 * The single writer of one show. Commands queue in a mailbox; the actor drains it in
 * batches: decides and evolves each command, appends the batch's events to the log as one
 * entry, and only then answers the callers and reports the commit. One append in flight at
 * a time. If an append fails, the in-memory state (already evolved) can no longer be
 * trusted: the actor stops, and the host activates a fresh one from the log.
 */
export class ShowActor {
  readonly showId: string;
  private state: ShowState | null;
  private lastSeq: number;
  private readonly deps: ShowActorDeps;
  private readonly maxBatch: number;
  private readonly maxMailbox: number;
  private mailbox: Pending[] = [];
  private readsAfterCommit: Array<(err?: SeatError) => void> = [];
  /** Reads waiting for the log to confirm this actor is still its latest writer. */
  private verifiedReads: Array<(err?: SeatError) => void> = [];
  /** performance.now() of the last proof that this actor was the log's latest writer. */
  private verifiedAt: number;
  private draining = false;
  private stopped: SeatError | null = null;
  private readonly expiries = new DeadlineHeap();
  private expiryTimer: NodeJS.Timeout | null = null;
  private expiryTimerAt = Infinity;
  private lastActivity: number;

  constructor(showId: string, state: ShowState | null, lastSeq: number, deps: ShowActorDeps) {
    this.showId = showId;
    this.state = state;
    this.lastSeq = lastSeq;
    this.deps = deps;
    this.maxBatch = deps.maxBatch ?? DEFAULT_MAX_BATCH;
    this.maxMailbox = deps.maxMailbox ?? DEFAULT_MAILBOX_MAX_COMMANDS;
    this.lastActivity = deps.now();
    this.verifiedAt = deps.verifiedAt ?? performance.now();
    if (state) {
      for (const hold of state.holds.values()) this.expiries.set(hold.expiresAt, hold.holdId);
      this.armExpiryTimer();
    }
  }

  get isStopped(): boolean {
    return this.stopped !== null;
  }

  /** Milliseconds-since-epoch of the last command or read, for passivation. */
  get idleSince(): number {
    return this.draining || this.mailbox.length ? this.deps.now() : this.lastActivity;
  }

  /** Holds active in committed state (a cheap read for metrics). */
  get activeHolds(): number {
    return this.state?.holds.size ?? 0;
  }

  /** Earliest deadline among committed holds (Infinity: none). Still answers after a stop, so the host can wake the show. */
  get nextHoldDeadline(): number {
    let next = Infinity;
    for (const hold of this.state?.holds.values() ?? []) if (hold.expiresAt < next) next = hold.expiresAt;
    return next;
  }

  get logSeq(): number {
    return this.lastSeq;
  }

  /** Hold deadlines the actor is tracking (one per active hold). */
  get trackedDeadlines(): number {
    return this.expiries.size;
  }

  /** Commands waiting to be decided. */
  get mailboxLength(): number {
    return this.mailbox.length;
  }

  send(cmd: ShowCommand, opts: SendOptions = {}): Promise<CommandReply> {
    if (this.stopped) return Promise.reject(new ActorStoppedError(this.stopped));
    // The actor's own expiries are never turned away: they are what frees seats under load.
    if (this.mailbox.length >= this.maxMailbox && cmd.type !== 'expireHolds')
      return Promise.reject(
        new SeatError(ErrorCode.UNAVAILABLE, 'the show is busy; retry shortly', { retryAfterSeconds: MAILBOX_FULL_RETRY_AFTER_SECONDS }),
      );
    this.lastActivity = this.deps.now();
    return new Promise((resolve, reject) => {
      this.mailbox.push({ cmd, deadline: opts.deadline, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  /**
   * Runs `fn` on committed state only: waits for an append in flight to finish first. With
   * `verify` (an answer to a client), a state not confirmed against the log within the
   * verify window is confirmed first (see ShowActorDeps.verifyWindowMs).
   */
  read<T>(fn: (state: ShowState | null) => T, opts: { verify?: boolean } = {}): Promise<T> {
    if (this.stopped) return Promise.reject(new ActorStoppedError(this.stopped));
    this.lastActivity = this.deps.now();
    const verify = opts.verify === true && this.needsVerify();
    if (!this.draining && !verify) return Promise.resolve(fn(this.state));
    return new Promise((resolve, reject) => {
      const run = (err?: SeatError) => {
        if (err) reject(err);
        else if (this.stopped) reject(new ActorStoppedError(this.stopped));
        else {
          try {
            resolve(fn(this.state));
          } catch (e) {
            reject(asSeatError(e));
          }
        }
      };
      (verify ? this.verifiedReads : this.readsAfterCommit).push(run);
      if (!this.draining) {
        this.draining = true;
        queueMicrotask(() => void this.drain());
      }
    });
  }

  private needsVerify(): boolean {
    const w = this.deps.verifyWindowMs;
    return w !== undefined && performance.now() - this.verifiedAt >= w;
  }

  /**
   * Confirms this actor is still the log's latest writer of the show (the log's last seq is
   * the one it applied last). Only called with nothing in flight (inside drain). Someone else
   * wrote: the actor stops with NOT_OWNER and this throws it. The log unreachable: throws
   * UNAVAILABLE and the actor stays.
   */
  private async verifyOwner(): Promise<void> {
    const startedAt = performance.now();
    let last: number;
    try {
      last = await this.deps.log.lastSeq(this.showId);
    } catch (err) {
      this.deps.onOwnerCheck?.('failed');
      throw new SeatError(ErrorCode.UNAVAILABLE, 'could not confirm the show with the event log; retry', {}, { cause: err });
    }
    if (this.stopped) throw new ActorStoppedError(this.stopped);
    if (last === this.lastSeq) {
      this.deps.onOwnerCheck?.('same');
      this.verifiedAt = Math.max(this.verifiedAt, startedAt);
      return;
    }
    this.deps.onOwnerCheck?.('moved');
    const reason = new SeatError(ErrorCode.NOT_OWNER, `another writer appended to ${this.showId} after seq ${this.lastSeq}`);
    this.deps.logger.warn({ showId: this.showId, code: reason.code, seq: this.lastSeq, logSeq: last }, 'the log moved on without this actor, stopping it');
    this.stop(reason);
    throw reason;
  }

  /** Waits for the mailbox to empty (used before snapshots on shutdown and handover). */
  async idle(): Promise<void> {
    while (this.draining && !this.stopped) await this.read(() => undefined);
  }

  /** Stops the actor: queued commands are rejected as retryable, timers cleared. */
  stop(reason: SeatError = new StopRequested()): void {
    if (this.stopped) return;
    this.stopped = reason;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    const waiting = this.mailbox;
    this.mailbox = [];
    for (const p of waiting) p.reject(new ActorStoppedError(reason));
    this.flushReads();
    const verified = this.verifiedReads;
    this.verifiedReads = [];
    for (const r of verified) r();
    this.deps.onStopped(this.showId, reason);
  }

  private flushReads(): void {
    const reads = this.readsAfterCommit;
    this.readsAfterCommit = [];
    for (const r of reads) r();
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped) {
        if (this.mailbox.length) await this.runBatch(this.mailbox.splice(0, this.maxBatch));
        else if (this.verifiedReads.length) await this.answerVerifiedReads();
        else break;
      }
    } finally {
      this.draining = false;
      this.flushReads();
    }
  }

  private async answerVerifiedReads(): Promise<void> {
    const reads = this.verifiedReads;
    this.verifiedReads = [];
    if (this.needsVerify()) {
      try {
        await this.verifyOwner();
      } catch (err) {
        const e = asSeatError(err);
        for (const r of reads) r(e);
        return;
      }
    }
    for (const r of reads) r();
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    const now = this.deps.now();
    let state = this.state;
    const firstVersion = (state?.version ?? 0) + 1;
    const events: ShowEvent[] = [];
    const outcomes: Array<{ p: Pending; reply?: CommandReply; error?: SeatError }> = [];
    // Holds past their deadline end before anything else is decided, timer fired or not, so
    // no command meets a hold that is over (the first batch after activation included).
    if (state && (this.expiries.peek() ?? Infinity) <= now) {
      const expired = decide(state, { type: 'expireHolds', holdIds: this.expiries.popDue(now) }, now);
      if (expired.ok) {
        for (const e of expired.events) if (e.type === 'HoldExpired') observeExpiryLag(state, e.holdId, now);
        for (const e of expired.events) state = evolve(state, e);
        for (const e of expired.events) events.push(e);
      }
    }
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i] as Pending;
      if (p.deadline !== undefined && now > p.deadline) {
        outcomes.push({ p, error: new SeatError(ErrorCode.DEADLINE_EXCEEDED, 'the request timed out before the show reached it; nothing was done') });
        continue;
      }
      let decision;
      try {
        decision = decide(state, p.cmd, now, this.deps.decideOptions);
      } catch (err) {
        decision = { ok: false as const, error: asSeatError(err) };
      }
      if (!decision.ok) {
        outcomes.push({ p, error: decision.error });
        continue;
      }
      // Nothing is sold or cancelled that could not be written to the bookings table now: the
      // caller retries later, and no booking exists that its customer was never told about.
      const refused = this.deps.bookingRows && decision.events.some((e) => BOOKING_EVENTS.has(e.type)) ? this.deps.bookingRows.refusal(this.showId) : null;
      if (refused) {
        outcomes.push({ p, error: refused });
        continue;
      }
      const lone = decision.events.length > DEFAULT_LONE_COMMAND_EVENTS || LONE_COMMANDS.has(p.cmd.type);
      if (lone && events.length > 0) {
        // Decided again, alone, in the next batch (decide is pure: nothing to undo).
        this.mailbox.unshift(...batch.slice(i));
        break;
      }
      // No push(...spread): a stadium's cancellation is more events than a call may take arguments.
      for (const e of decision.events) {
        if (e.type === 'HoldExpired') observeExpiryLag(state, e.holdId, now);
        state = evolve(state, e);
        events.push(e);
      }
      outcomes.push({ p, reply: decision.reply });
      if (lone && i + 1 < batch.length) {
        this.mailbox.unshift(...batch.slice(i + 1));
        break;
      }
    }

    if (events.length === 0) {
      // Nothing to append, so nothing the log would fence: an answer from memory is only as
      // good as this actor's claim to be the show's latest writer.
      if (outcomes.length > 0 && this.needsVerify()) {
        try {
          await this.verifyOwner();
        } catch (err) {
          const e = asSeatError(err);
          for (const o of outcomes) o.p.reject(e);
          this.flushReads();
          return;
        }
      }
      this.answer(outcomes);
      this.flushReads();
      return;
    }

    let seq: number;
    const appendStartedAt = performance.now();
    try {
      seq = await timedAppend(() => this.deps.log.append(this.showId, { batchId: this.deps.newBatchId(), firstVersion, events }, this.lastSeq));
    } catch (err) {
      const reason = asSeatError(err);
      // INVALID_ARGUMENT: the log refused the entry before writing anything (too big even split);
      // the command that made it is alone in its batch (see LONE_COMMANDS), so it alone is refused.
      const answer =
        reason.code === ErrorCode.NOT_OWNER || reason.code === ErrorCode.INVALID_ARGUMENT
          ? reason
          : new SeatError(ErrorCode.UNAVAILABLE, 'could not commit; retry with the same idempotency key', {}, { cause: err });
      this.deps.logger.warn({ showId: this.showId, err: reason, code: reason.code }, 'append failed, stopping show actor');
      for (const o of outcomes) o.error ? o.p.reject(o.error) : o.p.reject(answer);
      this.stop(reason);
      return;
    }
    const committed = state as ShowState;
    this.lastSeq = seq;
    this.verifiedAt = Math.max(this.verifiedAt, appendStartedAt);
    committed.logSeq = seq;
    if (this.deps.beforeReply) {
      try {
        await this.deps.beforeReply({ showId: this.showId, seq, firstVersion, events, state: committed });
      } catch (err) {
        const answer = new SeatError(ErrorCode.UNAVAILABLE, 'could not commit; retry with the same idempotency key', {}, { cause: err });
        if (!this.deps.bookingRows) {
          this.deps.logger.warn({ showId: this.showId, err }, 'post-append commit failed, stopping show actor');
          for (const o of outcomes) o.error ? o.p.reject(o.error) : o.p.reject(answer);
          this.stop(answer);
          return;
        }
        // The batch is in the log, so the state is right; only the answers naming its
        // bookings wait for their rows (the guard holds them back below).
        this.deps.logger.warn({ showId: this.showId, err }, 'booking rows not written; the show goes on, their confirms answer once written');
      }
    }
    this.state = committed;
    this.answer(outcomes);
    this.trackExpiries(events);
    recordCommitted(this.showId, events, now);
    try {
      this.deps.onCommitted({ showId: this.showId, seq, firstVersion, events, state: committed });
    } catch (err) {
      this.deps.logger.error({ err, showId: this.showId }, 'commit listener failed');
    }
    this.flushReads();
  }

  private answer(outcomes: Array<{ p: Pending; reply?: CommandReply; error?: SeatError }>): void {
    const guard = this.deps.bookingRows;
    for (const o of outcomes) {
      if (o.error) {
        o.p.reject(o.error);
        continue;
      }
      const reply = o.reply as CommandReply;
      let held: SeatError | null = null;
      if (guard) for (const b of bookingsOfReply(reply)) if ((held = guard.owed(this.showId, b.bookingId))) break;
      if (held) o.p.reject(held);
      else o.p.resolve(reply);
    }
  }

  /** Keeps one deadline per active hold: set when a hold starts or is extended, gone when it ends. */
  private trackExpiries(events: ShowEvent[]): void {
    let added = false;
    for (const e of events) {
      switch (e.type) {
        case 'SeatsHeld':
        case 'HoldExtended':
          this.expiries.set(e.expiresAt, e.holdId);
          added = true;
          break;
        case 'HoldReleased':
        case 'HoldExpired':
        case 'BookingConfirmed':
          this.expiries.delete(e.holdId);
          break;
        case 'ShowCreated':
          this.expiries.clear();
          break;
        default:
          break;
      }
    }
    if (added) this.armExpiryTimer();
  }

  private armExpiryTimer(): void {
    const next = this.expiries.peek();
    if (next === undefined || next >= this.expiryTimerAt || this.stopped) return;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimerAt = next;
    const delay = Math.min(Math.max(0, next - this.deps.now()), MAX_TIMER_MS);
    this.expiryTimer = setTimeout(() => this.fireExpiries(), delay);
    this.expiryTimer.unref();
  }

  private fireExpiries(): void {
    this.expiryTimer = null;
    this.expiryTimerAt = Infinity;
    const gate = this.deps.beforeTimer;
    if (!gate) {
      this.expireDue();
      return;
    }
    // Checked first, so a process that wakes from a pause with overdue timers writes nothing
    // until it knows it still owns the show.
    gate(this.showId)
      .catch(() => false)
      .then((go) => {
        if (this.stopped) return;
        if (go) this.expireDue();
        else this.armExpiryTimerIn(TIMER_RECHECK_MS);
      });
  }

  private armExpiryTimerIn(ms: number): void {
    if (this.stopped || this.expiries.peek() === undefined) return;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimerAt = this.deps.now() + ms;
    this.expiryTimer = setTimeout(() => this.fireExpiries(), ms);
    this.expiryTimer.unref();
  }

  private expireDue(): void {
    const due = this.expiries.popDue(this.deps.now());
    if (due.length) {
      this.send({ type: 'expireHolds', holdIds: due }).catch((err: unknown) => {
        // Holds still active go back on the heap so a later attempt expires them.
        if (!this.stopped)
          for (const id of due) if (this.state?.holds.has(id) && !this.expiries.has(id)) this.expiries.set(this.deps.now() + 1000, id);
        this.deps.logger.warn({ err, showId: this.showId }, 'hold expiry failed, will retry');
      });
    }
    this.armExpiryTimer();
  }
}
