import { performance } from 'node:perf_hooks';
import { ErrorCode, SeatError, asSeatError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { AppendBatch, EventLog } from '../core/ports.ts';
import { observeExpiryLag, recordCommitted, timedAppend } from './actor-metrics.ts';
import { DeadlineHeap } from './deadline-heap.ts';
import { decide, type DecideOptions } from './decide.ts';
import { evolve } from './evolve.ts';
import type { ShowState } from './show-state.ts';
import { deserializeState, serializeState } from './state-codec.ts';
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
/**
 * Batches of one show in flight to the log at once in a node (PIPELINE_DEPTH): one being
 * appended while the one before writes its booking rows (or, on the embedded log, is being
 * fsynced). Deeper pipelines cut batches smaller without overlapping more round trips
 * (bench/pipeline). An actor or host built without a depth commits one batch at a time.
 */
export const DEFAULT_PIPELINE_DEPTH = 2;
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
  /**
   * Most batches in flight to the log at once (default 1; a node uses DEFAULT_PIPELINE_DEPTH). Above 1, the
   * next batch is decided on the state after the ones in flight and appended fenced on the
   * seq the last of them takes; answers and commit listeners still follow each batch's own
   * commit, in order. 1: the next batch is decided only once the last one committed.
   */
  pipelineDepth?: number;
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

interface Outcome {
  p: Pending;
  reply?: CommandReply;
  error?: SeatError;
}

/** A decided batch between its decision and its answers. */
interface InFlight {
  events: ShowEvent[];
  firstVersion: number;
  outcomes: Outcome[];
  now: number;
  /** The batch's seq once committed; for a batch with no events, the seq of the one before it. */
  seq: Promise<number>;
  appendStartedAt: number;
  /** The state after the batch, when it was decided before the actor kept a separate committed copy. */
  after: ShowState | null;
  /** Nothing is decided after this batch until it committed (a lone command, see LONE_COMMANDS). */
  barrier: boolean;
}

const noop = (): void => undefined;

/**
 * The single writer of one show. Commands queue in a mailbox; the actor drains it in
 * batches: decides and evolves each command, appends the batch's events to the log as one
 * entry, and only then answers the callers and reports the commit.
 *
 * Pipelined commits: up to `pipelineDepth` batches are in flight at once. The next batch is
 * decided on the speculative `head` state (after every batch in flight) and appended fenced
 * on the seq the batch before it takes: at once when the log tells that seq early
 * (EventLog.appendPipelined), else the moment the append before it is acknowledged (while
 * that batch still writes its booking rows, answers and feeds its listeners).
 * Reads, listeners, timers and snapshots see only `state`, which a batch's events reach once
 * it committed: until a batch is first decided behind another the two are one object and
 * reads wait for the batch in flight, as they always did; from then on `state` is a second
 * copy evolved with the same events at commit. If an
 * append fails, it and every batch after it fail, the speculative state is dropped with the
 * actor, and the host activates a fresh one from the log.
 */
export class ShowActor {
  readonly showId: string;
  /** Committed state: what reads, listeners and snapshots see. */
  private state: ShowState | null;
  /** State after every decided batch (committed or not); the same object as `state` until the first batch is decided behind another. */
  private head: ShowState | null;
  private lastSeq: number;
  /** The seq the next append is fenced on: known, or the append it follows. */
  private tail: number | Promise<number>;
  private readonly deps: ShowActorDeps;
  private readonly maxBatch: number;
  private readonly maxMailbox: number;
  private readonly depth: number;
  private mailbox: Pending[] = [];
  /** Decided batches not yet answered, oldest first. */
  private inFlight: InFlight[] = [];
  /** Answers each batch once its append (and beforeReply) is done, one batch after another. */
  private commits: Promise<void> = Promise.resolve();
  /** Wakes the drain loop waiting for a commit or for mail. */
  private wakeDrain: (() => void) | null = null;
  /** Set once a batch failed: nothing more is decided; the actor stops once its appends settle. */
  private failing = false;
  /** Whether `head` and `state` are two objects (from the first batch decided behind another on). */
  private twin = false;
  /** A lone command waits for the pipeline to empty before it is decided. */
  private loneWaiting = false;
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
    this.head = state;
    this.lastSeq = lastSeq;
    this.tail = lastSeq;
    this.deps = deps;
    this.maxBatch = deps.maxBatch ?? DEFAULT_MAX_BATCH;
    this.maxMailbox = deps.maxMailbox ?? DEFAULT_MAILBOX_MAX_COMMANDS;
    this.depth = Math.max(1, deps.pipelineDepth ?? 1);
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

  /**
   * Resolves once every append this actor started has settled. A fresh actor for the show
   * loads after it, so it reads the log with no write of this one still on its way.
   */
  get settled(): Promise<void> {
    return Promise.allSettled(this.inFlight.map((b) => b.seq)).then(noop);
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
      } else this.wake();
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
    this.deps.logger.warn(
      { showId: this.showId, code: reason.code, seq: this.lastSeq, logSeq: last },
      'the log moved on without this actor, stopping it',
    );
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
    this.wake();
    this.deps.onStopped(this.showId, reason);
  }

  private wake(): void {
    const w = this.wakeDrain;
    this.wakeDrain = null;
    w?.();
  }

  private flushReads(): void {
    const reads = this.readsAfterCommit;
    this.readsAfterCommit = [];
    for (const r of reads) r();
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped) {
        if (this.mailbox.length && this.canDecide()) await this.decideBatch(this.mailbox.splice(0, this.maxBatch));
        else if (this.inFlight.length || this.failing) await this.nextWake();
        else if (this.verifiedReads.length) await this.answerVerifiedReads();
        else break;
      }
    } finally {
      this.draining = false;
      this.flushReads();
    }
  }

  /** Resolves on the next commit, new mail or stop. */
  private nextWake(): Promise<void> {
    return new Promise((resolve) => {
      this.wakeDrain = resolve;
    });
  }

  /** Whether another batch may be decided now (see pipelineDepth, LONE_COMMANDS). */
  private canDecide(): boolean {
    if (this.failing) return false;
    const n = this.inFlight.length;
    if (n === 0) {
      this.loneWaiting = false;
      return true;
    }
    if (this.loneWaiting || n >= this.depth) return false;
    // Behind an append whose seq the log does not tell early (JetStream), the next batch is
    // decided when that append is acknowledged, not before: it could not be sent sooner, and
    // the commands arriving meanwhile join it instead of making batches of their own.
    if (typeof this.tail !== 'number') return false;
    return !(this.inFlight[n - 1] as InFlight).barrier;
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

  /** Decides a batch on the head state and starts its append; its answers wait for `complete`. */
  private async decideBatch(batch: Pending[]): Promise<void> {
    const now = this.deps.now();
    const pipelined = this.inFlight.length > 0;
    // The first batch decided behind another splits the state in two: the object the batches
    // in flight were decided on becomes the committed copy once they commit, and a copy of it
    // runs ahead. From then on both see every event (a show never pipelined keeps one object).
    if (pipelined && !this.twin && this.head !== null) {
      this.head = deserializeState(serializeState(this.head));
      this.twin = true;
    }
    let state = this.head;
    const firstVersion = (state?.version ?? 0) + 1;
    const events: ShowEvent[] = [];
    const outcomes: Outcome[] = [];
    let barrier = false;
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
        outcomes.push({
          p,
          error: new SeatError(ErrorCode.DEADLINE_EXCEEDED, 'the request timed out before the show reached it; nothing was done'),
        });
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
      const refused =
        this.deps.bookingRows && decision.events.some((e) => BOOKING_EVENTS.has(e.type))
          ? this.deps.bookingRows.refusal(this.showId)
          : null;
      if (refused) {
        outcomes.push({ p, error: refused });
        continue;
      }
      const lone = decision.events.length > DEFAULT_LONE_COMMAND_EVENTS || LONE_COMMANDS.has(p.cmd.type);
      if (lone && (events.length > 0 || pipelined)) {
        // Decided again, alone and on committed state, once nothing is in flight (decide is
        // pure: nothing to undo), so a log refusing it fails nobody else's command.
        this.mailbox.unshift(...batch.slice(i));
        this.loneWaiting = true;
        break;
      }
      // No push(...spread): a stadium's cancellation is more events than a call may take arguments.
      for (const e of decision.events) {
        if (e.type === 'HoldExpired') observeExpiryLag(state, e.holdId, now);
        state = evolve(state, e);
        events.push(e);
      }
      outcomes.push({ p, reply: decision.reply });
      if (lone) {
        barrier = true;
        if (i + 1 < batch.length) this.mailbox.unshift(...batch.slice(i + 1));
        break;
      }
    }
    this.head = state;

    if (events.length === 0) {
      if (outcomes.length === 0) return;
      if (pipelined) {
        // Decided on state not committed yet: answered after the batches before it, and
        // failed with them.
        const seq = Promise.resolve(this.tail);
        seq.catch(noop);
        this.enqueue({ events, firstVersion, outcomes, now, seq, appendStartedAt: performance.now(), after: null, barrier: false });
        return;
      }
      // Nothing to append, so nothing the log would fence: an answer from memory is only as
      // good as this actor's claim to be the show's latest writer.
      if (this.needsVerify()) {
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

    const appendStartedAt = performance.now();
    const seq = this.startAppend({ batchId: this.deps.newBatchId(), firstVersion, events });
    this.enqueue({ events, firstVersion, outcomes, now, seq, appendStartedAt, after: this.twin ? null : state, barrier });
  }

  /**
   * Appends fenced on the tail: at once when the seq it follows is known (committed, or told
   * by EventLog.appendPipelined), else the moment the append before it resolves.
   */
  private startAppend(batch: AppendBatch): Promise<number> {
    const { log } = this.deps;
    const tail = this.tail;
    let committed: Promise<number>;
    if (typeof tail !== 'number') {
      committed = tail.then((seq) => timedAppend(() => log.append(this.showId, batch, seq)));
      this.followTail(committed);
    } else if (this.depth > 1 && log.appendPipelined) {
      const started = log.appendPipelined(this.showId, batch, tail);
      committed = timedAppend(() => started.committed);
      if (started.seq !== null) this.tail = started.seq;
      else this.followTail(committed);
    } else {
      committed = timedAppend(() => log.append(this.showId, batch, tail));
      this.followTail(committed);
    }
    // Awaited in order by `complete`; a batch behind a failed one is never awaited there.
    committed.catch(noop);
    return committed;
  }

  /** The next append follows `append`: once it resolves, its seq is the tail and the next batch may be decided. */
  private followTail(append: Promise<number>): void {
    this.tail = append;
    append.then(
      (seq) => {
        if (this.tail === append) this.tail = seq;
        this.wake();
      },
      () => this.wake(),
    );
  }

  private enqueue(b: InFlight): void {
    this.inFlight.push(b);
    this.commits = this.commits.then(() => this.complete(b));
  }

  /** Runs once per batch, in decision order: waits for its append, then commits and answers it. */
  private async complete(b: InFlight): Promise<void> {
    if (this.failing || this.inFlight[0] !== b) return;
    let seq: number;
    try {
      seq = await b.seq;
    } catch (err) {
      await this.fail(err);
      return;
    }
    if (b.events.length === 0) {
      this.inFlight.shift();
      this.answer(b.outcomes);
      this.flushReads();
      this.wake();
      return;
    }
    if (this.tail === b.seq) this.tail = seq;
    const committed = this.applyCommitted(b);
    this.lastSeq = seq;
    this.verifiedAt = Math.max(this.verifiedAt, b.appendStartedAt);
    committed.logSeq = seq;
    const batch: CommittedBatch = { showId: this.showId, seq, firstVersion: b.firstVersion, events: b.events, state: committed };
    if (this.deps.beforeReply) {
      try {
        await this.deps.beforeReply(batch);
      } catch (err) {
        if (!this.deps.bookingRows) {
          this.deps.logger.warn({ showId: this.showId, err }, 'post-append commit failed, stopping show actor');
          await this.fail(
            err,
            new SeatError(ErrorCode.UNAVAILABLE, 'could not commit; retry with the same idempotency key', {}, { cause: err }),
          );
          return;
        }
        // The batch is in the log, so the state is right; only the answers naming its
        // bookings wait for their rows (the guard holds them back below).
        this.deps.logger.warn(
          { showId: this.showId, err },
          'booking rows not written; the show goes on, their confirms answer once written',
        );
      }
    }
    this.inFlight.shift();
    this.answer(b.outcomes);
    this.trackExpiries(b.events);
    recordCommitted(this.showId, b.events, b.now);
    try {
      this.deps.onCommitted(batch);
    } catch (err) {
      this.deps.logger.error({ err, showId: this.showId }, 'commit listener failed');
    }
    this.flushReads();
    this.wake();
  }

  /** The committed state after `b`: the state decided with it, or its events applied to the committed copy. */
  private applyCommitted(b: InFlight): ShowState {
    if (b.after) this.state = b.after;
    else {
      let state = this.state;
      for (const e of b.events) state = evolve(state, e);
      this.state = state;
    }
    return this.state as ShowState;
  }

  /**
   * The first batch in flight failed (`err`): it and every batch decided after it fail (they
   * were decided on its state), nothing more is decided, and once every append this actor
   * started has settled the actor stops, so the host rebuilds the show from the log.
   * `ownAnswer`: what the first batch's callers are told (default: from `err`).
   */
  private async fail(err: unknown, ownAnswer?: SeatError): Promise<void> {
    this.failing = true;
    const reason = ownAnswer ?? asSeatError(err);
    const batches = this.inFlight;
    this.inFlight = [];
    // INVALID_ARGUMENT: the log refused the entry before writing anything (too big even split);
    // the command that made it is alone in its batch (see LONE_COMMANDS), so it alone is refused.
    const answer =
      ownAnswer ??
      (reason.code === ErrorCode.NOT_OWNER || reason.code === ErrorCode.INVALID_ARGUMENT
        ? reason
        : new SeatError(ErrorCode.UNAVAILABLE, 'could not commit; retry with the same idempotency key', {}, { cause: err }));
    const behind =
      reason.code === ErrorCode.NOT_OWNER
        ? reason
        : new SeatError(
            ErrorCode.UNAVAILABLE,
            'could not commit: an earlier batch of the show failed; retry with the same idempotency key',
            {},
            { cause: err },
          );
    this.deps.logger.warn(
      { showId: this.showId, err: reason, code: reason.code, batchesBehind: batches.length - 1 },
      'append failed, stopping show actor',
    );
    batches.forEach((b, i) => {
      for (const o of b.outcomes) o.p.reject(i === 0 && o.error ? o.error : i === 0 ? answer : behind);
    });
    await Promise.allSettled(batches.map((b) => b.seq));
    this.stop(reason);
  }

  private answer(outcomes: Outcome[]): void {
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
