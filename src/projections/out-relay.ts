import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { evolve } from '../actors/evolve.ts';
import type { CommittedBatch } from '../actors/show-actor.ts';
import type { ShowState } from '../actors/show-state.ts';
import { deserializeState, type SerializedState } from '../actors/state-codec.ts';
import type { ShowEvent } from '../actors/types.ts';
import type { OutSink } from '../core/out-sink.ts';
import type { Logger } from '../logger.ts';
import { messagesOf, PAUSE, planOf, PUBLISH_SLICE_MS, type OutMessage, type OutPlan, type Step } from './out-events.ts';
import { outEventsDelivered, outEventsFailures, outEventsRepairs, trackRelay } from './out-relay-metrics.ts';
import type { EventLog, Snapshot, SnapshotStore } from '../core/ports.ts';
import { lastVersionOf, type ReplayedTail } from '../core/replayed-tail.ts';

export type { OutSink } from '../core/out-sink.ts';

/** Most batches waiting across shows; beyond it a show's further batches become one log re-read. */
export const DEFAULT_OUT_QUEUE_MAX_BATCHES = 50_000;
export const OUT_RETRY_BASE_MS = 100;
export const OUT_RETRY_MAX_MS = 10_000;
/** Shows whose covered version is remembered; forgetting one costs only a repeat at its next activation. */
const MAX_TRACKED_SHOWS = 100_000;
/** With the test hook: batches held back before the process kills itself. */
const TEST_HELD_BATCHES_BEFORE_KILL = 8;

const OUT_EVENT_TYPES: ReadonlySet<ShowEvent['type']> = new Set([
  'BookingConfirmed',
  'BookingCancelled',
  'HoldExpired',
  'ShowCancelled',
  'ShowChanged',
]);

interface JobProgress {
  /** Every message built (the steps are done). */
  exhausted: boolean;
  /** Messages sent and not yet acknowledged. */
  pending: number;
}

interface BatchJob extends JobProgress {
  kind: 'batch';
  /** Lowest version the job delivers: snapshots at or above it wait for the job. */
  firstVersion: number;
  steps: Iterator<Step, void>;
}

/** Re-delivery from the log of the versions in (afterVersion, bound]. */
interface RepairJob extends JobProgress {
  kind: 'repair';
  firstVersion: number;
  afterVersion: number;
  /** Infinity until a later batch of the show is queued (then that batch's firstVersion - 1). */
  bound: number;
  steps: Iterator<Step, void> | null;
}

type Job = BatchJob | RepairJob;

/** A message on its way, with the job it belongs to. */
interface Sending {
  message: OutMessage;
  job: Job;
}

interface ShowQueue {
  jobs: Job[];
  pumping: boolean;
}

export interface OutRelayOptions {
  sink: OutSink;
  /** Activation repairs read these: the raw log (no read hooks) and the snapshot store. */
  log: EventLog;
  snapshots: SnapshotStore;
  logger: Logger;
  maxQueuedBatches?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** OUT_EVENTS_DIE_AFTER_COMMIT_FOR_TESTS (see config.ts). */
  dieAfterCommitForTests?: number;
}

/**
 * Delivers every committed batch's out-events to a sink at least once, in version order per
 * show, with a log-based repair for what a crash between commit and delivery left behind.
 *
 * - Commit listener (`listener`): the batch's out-events are queued and sent in the
 *   background with retries (exponential backoff with jitter) until the sink acknowledges;
 *   nothing waits for this, least of all the callers' replies. Up to `sink.inFlightPerShow`
 *   messages of a show in flight, issued in order, `sink.concurrency` in all.
 * - Snapshots (`holdingSnapshots`): a snapshot of a show is written only once every out-event
 *   up to its version is delivered; until then it is kept aside (the newest per show) and
 *   nobody waits for it. So every undelivered out-event lies in the log after the show's
 *   newest snapshot, which is exactly the tail a new owner replays, and compaction (below the
 *   previous snapshot) never drops it.
 * - Activation (`afterReplay`): after a show is loaded, the relay re-reads the
 *   tail after its snapshot itself (snapshot + fold, in the background, with the state at each
 *   entry) and re-delivers the out-events of the versions this process has not queued yet,
 *   with the same eventIds, ahead of anything the new actor commits. Skipped for a cold load
 *   with no tail (the snapshot covers only delivered versions) and for a tail this process
 *   already queued itself (passivation and back).
 * - Overflow: past `maxQueuedBatches` a show's further batches are not kept; one repair job
 *   re-reads them from the log when their turn comes, so memory stays bounded.
 *
 * Repeats happen (a message acknowledged but not yet counted, a tail re-read); consumers dedup
 * by `eventId`. See the README ("Events for other services") for the figures.
 */
export class OutRelay {
  readonly sinkName: string;
  private readonly sink: OutSink;
  private readonly opts: OutRelayOptions;
  private readonly logger: Logger;
  private readonly queues = new Map<string, ShowQueue>();
  /** Per show: the highest version whose out-events are queued here (delivered or waiting). */
  private readonly covered = new Map<string, number>();
  /** Snapshots written once the out-events they cover are delivered: the newest per show. */
  private readonly deferredSnapshots = new Map<string, { snapshot: Snapshot; store: SnapshotStore }>();
  private readonly sleepers = new Set<() => void>();
  private jobCount = 0;
  private inFlight = 0;
  private readonly slotWaiters: Array<() => void> = [];
  private closed = false;
  private testCommits = 0;
  private failures = 0;
  private repairs = 0;

  constructor(opts: OutRelayOptions) {
    this.opts = opts;
    this.sink = opts.sink;
    this.sinkName = opts.sink.name;
    this.logger = opts.logger.child({ subsystem: 'out-relay', sink: opts.sink.name });
    trackRelay(this);
  }

  /** Batches and repairs waiting, across shows (the queue-depth gauge). */
  get queuedJobs(): number {
    return this.jobCount;
  }

  stats(): { queued: number; failures: number; repairs: number; showsWaiting: number } {
    return { queued: this.jobCount, failures: this.failures, repairs: this.repairs, showsWaiting: this.queues.size };
  }

  /** The commit listener. Synchronous and cheap: takes what the messages need, queues them. */
  readonly listener = (batch: CommittedBatch): void => {
    if (this.closed) return;
    const { showId } = batch;
    const lastVersion = batch.firstVersion + batch.events.length - 1;
    const before = this.covered.get(showId) ?? 0;
    this.cover(showId, lastVersion);
    if (!batch.events.some((e) => OUT_EVENT_TYPES.has(e.type))) return;
    const q = this.queueOf(showId);
    const last = q.jobs.at(-1);
    const open = last?.kind === 'repair' && last.bound === Infinity ? last : null;
    if (this.jobCount >= (this.opts.maxQueuedBatches ?? this.sink.queueMaxBatches ?? DEFAULT_OUT_QUEUE_MAX_BATCHES)) {
      // Full: an open repair at the end of the show's queue already reads this batch from the log.
      if (!open)
        this.push(showId, q, {
          kind: 'repair',
          firstVersion: before + 1,
          afterVersion: before,
          bound: Infinity,
          steps: null,
          exhausted: false,
          pending: 0,
        });
      return;
    }
    if (open) open.bound = batch.firstVersion - 1;
    let plan: OutPlan;
    try {
      plan = planOf(batch, Date.now());
    } catch (err) {
      this.logger.error({ err, showId }, 'could not build out-events');
      return;
    }
    this.push(showId, q, {
      kind: 'batch',
      firstVersion: batch.firstVersion,
      steps: messagesOf(plan, this.sink.maxMessageBytes),
      exhausted: false,
      pending: 0,
    });
    this.testHook();
  };

  /**
   * The host's `afterReplay` step for out-events: once a show's tail is read at activation,
   * queue a repair that re-delivers the versions this process has not queued yet. Always for a
   * show activated from a warm copy (the copy may be ahead of everything delivered); for a
   * cold load only if the tail reaches past what this process queued itself.
   */
  afterReplay(showId: string, tail: ReplayedTail): void {
    if (this.closed || (tail.warm === null && lastVersionOf(tail) <= (this.covered.get(showId) ?? 0))) return;
    const q = this.queueOf(showId);
    const last = q.jobs.at(-1);
    if (last?.kind === 'repair' && last.bound === Infinity) return;
    const after = this.covered.get(showId) ?? 0;
    this.push(showId, q, {
      kind: 'repair',
      firstVersion: after + 1,
      afterVersion: after,
      bound: Infinity,
      steps: null,
      exhausted: false,
      pending: 0,
    });
  }

  /**
   * The snapshot store the actor host writes to: a snapshot whose out-events are all delivered
   * is saved at once; another is kept aside (the newest per show, replacing an older one) and
   * saved when they are, while `save` answers false (not written now) without waiting, so no
   * passivation, handover or start-up scan stalls on a sink that is away. Keeps the snapshot
   * object (the host hands over a fresh copy).
   */
  holdingSnapshots(store: SnapshotStore): SnapshotStore {
    return {
      save: async (snapshot: Snapshot) => {
        // The host saves a snapshot of a batch before its commit listeners run: let the
        // listener queue that batch first (it runs in the same turn).
        await yieldToLoop();
        // Closed: batches committed from now on are not tracked, so no snapshot is safe.
        if (this.closed) return false;
        if (this.deliveredUpTo(snapshot.showId) >= snapshot.version) return store.save(snapshot);
        this.deferredSnapshots.set(snapshot.showId, { snapshot, store });
        return false;
      },
      load: (showId) => store.load(showId),
      delete: (showId) => store.delete(showId),
      close: () => store.close(),
    };
  }

  /** Highest version of the show up to which every out-event is delivered (Infinity: nothing waits). */
  deliveredUpTo(showId: string): number {
    const head = this.queues.get(showId)?.jobs[0];
    return head ? head.firstVersion - 1 : Infinity;
  }

  /** Resolves when nothing waits for delivery, or after `timeoutMs` (false). */
  async drain(timeoutMs: number): Promise<boolean> {
    const end = performance.now() + timeoutMs;
    while (this.jobCount > 0 && !this.closed) {
      if (performance.now() > end) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.jobCount === 0;
  }

  /** Stops delivering; what is still queued is re-delivered from the log by the next activation. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wake of this.sleepers) wake();
    for (const grant of this.slotWaiters.splice(0)) grant();
    this.deferredSnapshots.clear();
    this.queues.clear();
    this.jobCount = 0;
    await this.sink.close?.();
  }

  private cover(showId: string, version: number): void {
    const before = this.covered.get(showId);
    if (before !== undefined && before >= version) return;
    this.covered.delete(showId); // re-inserted last: the map forgets the least recently active first
    this.covered.set(showId, version);
    if (this.covered.size > MAX_TRACKED_SHOWS) this.covered.delete(this.covered.keys().next().value as string);
  }

  private queueOf(showId: string): ShowQueue {
    let q = this.queues.get(showId);
    if (!q) {
      q = { jobs: [], pumping: false };
      this.queues.set(showId, q);
    }
    return q;
  }

  private push(showId: string, q: ShowQueue, job: Job): void {
    q.jobs.push(job);
    this.jobCount++;
    if (!q.pumping && !this.holding) void this.pump(showId, q);
  }

  /** Folds the show's tail after its snapshot and keeps the plans of the versions the job covers. */
  private async prepareRepair(showId: string, job: RepairJob): Promise<void> {
    outEventsRepairs.inc({ sink: this.sinkName });
    this.repairs++;
    const snapshot = await this.opts.snapshots.load(showId);
    let state: ShowState | null = snapshot ? deserializeState(snapshot.state as SerializedState) : null;
    const plans: OutPlan[] = [];
    const now = Date.now();
    let highest = job.afterVersion;
    for await (const entry of this.opts.log.read(showId, snapshot?.logSeq ?? 0)) {
      for (const e of entry.events) state = evolve(state, e);
      if (entry.firstVersion > job.bound) break;
      const last = entry.firstVersion + entry.events.length - 1;
      if (last <= job.afterVersion || !entry.events.some((e) => OUT_EVENT_TYPES.has(e.type))) continue;
      plans.push(
        planOf({ showId, seq: entry.seq, firstVersion: entry.firstVersion, events: entry.events, state: state as ShowState }, now),
      );
      highest = Math.max(highest, last);
    }
    this.cover(showId, highest);
    if (plans.length)
      this.logger.info({ showId, afterVersion: job.afterVersion, batches: plans.length }, 'out-events of the log tail re-delivered');
    const limit = this.sink.maxMessageBytes;
    job.steps = (function* () {
      for (const plan of plans) yield* messagesOf(plan, limit);
    })();
  }

  /**
   * Sends the show's queue until it is empty: up to `sink.inFlightPerShow` messages in flight,
   * issued in order. When the oldest fails, the rest are let settle and all of them are sent
   * again in order after a backoff (the sink drops the ones it already has by eventId).
   */
  private async pump(showId: string, q: ShowQueue): Promise<void> {
    q.pumping = true;
    const window: Array<{ item: Sending; result: Promise<unknown> }> = [];
    let resend: Sending[] = [];
    let attempt = 0;
    const cursor = { sliceEnd: performance.now() + PUBLISH_SLICE_MS };
    try {
      while (!this.closed && !this.holding) {
        while (window.length < Math.max(1, this.sink.inFlightPerShow)) {
          const item = resend.shift() ?? (await this.nextOf(showId, q, cursor));
          if (!item || this.closed) break;
          item.job.pending++;
          window.push({ item, result: this.send(item.message) });
        }
        const head = window[0];
        if (!head) break;
        const err = await head.result;
        if (err === null) {
          window.shift();
          head.item.job.pending--;
          attempt = 0;
          this.finishJobs(showId, q);
          continue;
        }
        await Promise.all(window.map((w) => w.result));
        for (const w of window) w.item.job.pending--;
        resend = [...window.splice(0).map((w) => w.item), ...resend];
        const fields = { err, showId, eventId: head.item.message.event.eventId, attempt };
        if (attempt === 0) this.logger.warn(fields, 'out-event not delivered; retrying with backoff');
        else this.logger.debug(fields, 'out-event still not delivered');
        await this.sleep(this.backoff(attempt++));
      }
    } finally {
      q.pumping = false;
      if (!q.jobs.length && this.queues.get(showId) === q) this.queues.delete(showId);
      this.settle(showId);
    }
  }

  /** The show's next message to send, null when none is left now. Prepares repairs on the way. */
  private async nextOf(showId: string, q: ShowQueue, cursor: { sliceEnd: number }): Promise<Sending | null> {
    let attempt = 0;
    while (!this.closed) {
      const job = q.jobs.find((j) => !j.exhausted);
      if (!job) return null;
      if (job.kind === 'repair' && !job.steps) {
        try {
          await this.prepareRepair(showId, job);
        } catch (err) {
          this.failures++;
          outEventsFailures.inc({ sink: this.sinkName });
          this.logger.warn({ err, showId }, 'could not re-read the log tail for out-events; retrying');
          await this.sleep(this.backoff(attempt++));
        }
        continue;
      }
      let next: IteratorResult<Step, void>;
      try {
        next = (job.steps as Iterator<Step, void>).next();
      } catch (err) {
        this.logger.error({ err, showId }, 'could not build out-events');
        next = { done: true, value: undefined };
      }
      if (performance.now() > cursor.sliceEnd) {
        // Building a stadium's pages is seconds of work: let heartbeats and other shows run.
        await yieldToLoop();
        cursor.sliceEnd = performance.now() + PUBLISH_SLICE_MS;
      }
      if (next.done) {
        job.exhausted = true;
        this.finishJobs(showId, q);
        continue;
      }
      if (next.value !== PAUSE) return { message: next.value, job };
    }
    return null;
  }

  /** Drops the jobs at the head of the show's queue that are built and acknowledged. */
  private finishJobs(showId: string, q: ShowQueue): void {
    let finished = false;
    while (q.jobs[0]?.exhausted && q.jobs[0].pending === 0) {
      q.jobs.shift();
      this.jobCount--;
      finished = true;
    }
    if (finished) this.settle(showId);
  }

  /** One attempt: resolves null once the sink has the message, else the error. */
  private async send(message: OutMessage): Promise<unknown> {
    await this.slot();
    try {
      await this.sink.send(message);
      outEventsDelivered.inc({ sink: this.sinkName });
      return null;
    } catch (err) {
      this.failures++;
      outEventsFailures.inc({ sink: this.sinkName });
      return err ?? new Error('send failed');
    } finally {
      this.release();
    }
  }

  /** Exponential backoff with full jitter in its upper half. */
  private backoff(attempt: number): number {
    const cap = Math.min(
      this.opts.retryMaxMs ?? OUT_RETRY_MAX_MS,
      (this.opts.retryBaseMs ?? OUT_RETRY_BASE_MS) * 2 ** Math.min(attempt, 20),
    );
    return cap / 2 + Math.random() * (cap / 2);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** A place among the sink's messages in flight, granted in request order (keeps each show's order). */
  private slot(): Promise<void> {
    if (this.inFlight < Math.max(1, this.sink.concurrency) && !this.slotWaiters.length) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise<void>((r) => this.slotWaiters.push(r));
  }

  /** Hands the place straight to the next waiter, so nobody overtakes it. */
  private release(): void {
    const next = this.slotWaiters.shift();
    if (next) next();
    else this.inFlight--;
  }

  /** Writes the show's snapshot kept aside once what it covers is delivered. */
  private settle(showId: string): void {
    const deferred = this.deferredSnapshots.get(showId);
    if (!deferred || this.deliveredUpTo(showId) < deferred.snapshot.version) return;
    this.deferredSnapshots.delete(showId);
    deferred.store.save(deferred.snapshot).catch((err: unknown) => this.logger.warn({ err, showId }, 'snapshot failed'));
  }

  // -- test hook: die between the commit and the delivery ---------------------------------

  private holding = false;

  private testHook(): void {
    const n = this.opts.dieAfterCommitForTests;
    if (n === undefined) return;
    this.testCommits++;
    // From the n-th batch on, nothing more is sent: those batches are committed and answered
    // but undelivered, as they would be if the process died right after each commit.
    if (this.testCommits >= n) this.holding = true;
    if (this.testCommits >= n + TEST_HELD_BATCHES_BEFORE_KILL) {
      this.logger.warn({ commits: this.testCommits }, 'test hook: killing the process between commit and delivery');
      process.kill(process.pid, 'SIGKILL');
    }
  }
}
