import type { Redis } from 'ioredis';
import type { ShowState } from '../actors/show-state.ts';
import type { Logger } from '../logger.ts';
import type { Placement } from './placement.ts';

/**
 * Hold expiry that survives the owner's death.
 *
 * Every show with active holds has an entry in one Redis sorted set: member = show id,
 * score = its earliest hold deadline (ms since the epoch). Whoever holds the show's state
 * (the owner after each commit, the warm replica after each applied entry) writes it,
 * coalesced per show and flushed every `flushMs`, so Redis is never on a command's path.
 * Each write carries the log seq it reflects and a write for an older seq is dropped (a
 * Lua check), so a paused old owner waking up cannot overwrite a newer entry.
 *
 * A sweeper on every worker looks, every `sweepMs`, for entries due within `marginMs` of
 * now whose show it owns (per the ring) and does not run; it activates them. Activation
 * rebuilds the actor's deadline heap: overdue holds expire at once, the others on time.
 *
 * Timing: a hold whose owner died expires at most (detection time + sweepMs + activation)
 * after its deadline; with the default margin, a hold due later than detection + margin
 * expires on time. A hold taken less than `flushMs` before both its owner and its replica
 * died is not in the index; it expires when its show is next activated (any command).
 */

export const DEFAULT_EXPIRY_FLUSH_MS = 100;
export const DEFAULT_EXPIRY_SWEEP_MS = 250;
/** Due shows are activated this long before their first deadline, so timers fire on time. */
export const DEFAULT_EXPIRY_MARGIN_MS = 1_000;
/** Most shows one sweep activates. */
const SWEEP_BATCH = 256;

/** Redis keys of the index under CLUSTER_PREFIX. */
export const expiryKeys = (prefix: string) => ({
  /** Sorted set: member = show id, score = earliest active hold deadline (ms). */
  deadlines: `${prefix}:hold-deadlines`,
  /** Hash: show id → log seq the entry reflects (the write fence). */
  seqs: `${prefix}:hold-deadline-seqs`,
});

/** ARGV: show id, seq, deadline ('' = no holds). Returns 1 when written, 0 when stale. */
const WRITE_SCRIPT = `
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur and tonumber(cur) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] == '' then redis.call('ZREM', KEYS[1], ARGV[1]) else redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1]) end
return 1
`;

/** One show's index entry: the log seq it reflects and its earliest deadline (null: no holds). */
export interface ExpiryEntry {
  seq: number;
  deadline: number | null;
}

export function expiryEntryOf(state: ShowState): ExpiryEntry {
  let deadline = Infinity;
  for (const hold of state.holds.values()) if (hold.expiresAt < deadline) deadline = hold.expiresAt;
  return { seq: state.logSeq, deadline: deadline === Infinity ? null : deadline };
}

type EntryReader = () => ExpiryEntry | null | Promise<ExpiryEntry | null>;

export interface ExpiryIndexOptions {
  redis: Redis;
  prefix: string;
  logger: Logger;
  flushMs?: number;
}

/**
 * The writing side. `touch` is cheap and synchronous (a map set); the entry is read and
 * written at the next flush. Concurrency: one flush at a time; touches during a flush go
 * to the next one.
 */
export class ExpiryIndexWriter {
  private pending = new Map<string, EntryReader>();
  private writeFailing = false;
  private readonly keys: ReturnType<typeof expiryKeys>;
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;
  private readonly logger: Logger;
  private written = 0;

  constructor(private readonly opts: ExpiryIndexOptions) {
    this.keys = expiryKeys(opts.prefix);
    this.logger = opts.logger.child({ subsystem: 'expiry-index' });
    this.timer = setInterval(() => void this.flush(), opts.flushMs ?? DEFAULT_EXPIRY_FLUSH_MS);
    this.timer.unref();
  }

  /** Marks the show for the next flush; `read` gives its entry then (null: skip it). */
  touch(showId: string, read: EntryReader): void {
    this.pending.set(showId, read);
  }

  /** Writes everything touched so far. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (this.pending.size === 0) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.write(batch).finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async write(batch: Map<string, EntryReader>): Promise<void> {
    const entries: Array<[string, ExpiryEntry]> = [];
    await Promise.all(
      [...batch].map(async ([showId, read]) => {
        try {
          const entry = await read();
          if (entry) entries.push([showId, entry]);
        } catch {
          // The show stopped or moved meanwhile; its new holder writes the entry.
        }
      }),
    );
    if (entries.length === 0) return;
    await this.put(entries).then(
      () => {
        if (this.writeFailing) this.logger.info('expiry index writable again');
        this.writeFailing = false;
      },
      (err: unknown) => {
        // Once per streak: during a Redis outage this fails every flush.
        if (!this.writeFailing) this.logger.warn({ err, shows: entries.length }, 'expiry index write failed; retrying every flush');
        this.writeFailing = true;
        for (const [showId, entry] of entries) if (!this.pending.has(showId)) this.pending.set(showId, () => entry);
      },
    );
  }

  /** Writes entries now (also used by the sweeper to correct an entry it found stale). */
  async put(entries: Array<[string, ExpiryEntry]>): Promise<void> {
    const pipeline = this.opts.redis.pipeline();
    for (const [showId, e] of entries)
      pipeline.eval(WRITE_SCRIPT, 2, this.keys.deadlines, this.keys.seqs, showId, e.seq, e.deadline === null ? '' : Math.round(e.deadline));
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
    this.written += entries.length;
  }

  stats(): { written: number; pending: number } {
    return { written: this.written, pending: this.pending.size };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
    await this.flush();
  }
}

export interface ExpirySweeperOptions {
  redis: Redis;
  prefix: string;
  placement: Placement;
  logger: Logger;
  isActive: (showId: string) => boolean;
  /** Activates the show; resolves false when it does not exist. */
  activate: (showId: string) => Promise<boolean>;
  /** The entry of an active show (to correct an index entry that outlived its holds). */
  entryOf: (showId: string) => Promise<ExpiryEntry | null>;
  writer: ExpiryIndexWriter;
  sweepMs?: number;
  marginMs?: number;
  now?: () => number;
}

/** The reading side: activates due shows this node owns and does not run. */
export class ExpirySweeper {
  private readonly timer: NodeJS.Timeout;
  private sweeping: Promise<void> | null = null;
  private readonly inFlight = new Set<string>();
  private readonly logger: Logger;
  private readonly keys: ReturnType<typeof expiryKeys>;
  private activations = 0;
  private closed = false;
  private sweepFailing = false;

  constructor(private readonly opts: ExpirySweeperOptions) {
    this.keys = expiryKeys(opts.prefix);
    this.logger = opts.logger.child({ subsystem: 'expiry-sweeper' });
    this.timer = setInterval(() => void this.sweep(), opts.sweepMs ?? DEFAULT_EXPIRY_SWEEP_MS);
    this.timer.unref();
  }

  sweep(): Promise<void> {
    if (this.sweeping || this.closed) return this.sweeping ?? Promise.resolve();
    this.sweeping = this.run()
      .then(() => {
        if (this.sweepFailing) this.logger.info('expiry sweep works again');
        this.sweepFailing = false;
      })
      .catch((err: unknown) => {
        // Once per streak: during a Redis outage this fails every sweep.
        if (!this.sweepFailing) this.logger.warn({ err }, 'expiry sweep failed; retrying every sweep');
        this.sweepFailing = true;
      })
      .finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async run(): Promise<void> {
    const self = this.opts.placement.selfId;
    if (self === null) return;
    const now = (this.opts.now ?? Date.now)();
    const due = await this.opts.redis.zrangebyscore(
      this.keys.deadlines,
      '-inf',
      now + (this.opts.marginMs ?? DEFAULT_EXPIRY_MARGIN_MS),
      'LIMIT',
      0,
      SWEEP_BATCH,
    );
    for (const showId of due) {
      if (this.opts.placement.owner(showId) !== self || this.opts.isActive(showId) || this.inFlight.has(showId)) continue;
      this.inFlight.add(showId);
      void this.wake(showId).finally(() => this.inFlight.delete(showId));
    }
  }

  private async wake(showId: string): Promise<void> {
    try {
      const exists = await this.opts.activate(showId);
      this.activations++;
      this.logger.debug({ showId }, 'due show activated for its hold expiry');
      // An entry that outlived its holds (the owner died before its update) would wake the
      // show again and again: write what the show says now.
      if (!exists) {
        await this.opts.redis.multi().zrem(this.keys.deadlines, showId).hdel(this.keys.seqs, showId).exec();
        return;
      }
      const entry = await this.opts.entryOf(showId);
      if (entry && entry.deadline === null) await this.opts.writer.put([[showId, entry]]);
    } catch (err) {
      this.logger.warn({ err, showId }, 'activating a due show failed; next sweep retries');
    }
  }

  stats(): { activations: number } {
    return { activations: this.activations };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.sweeping;
  }
}
