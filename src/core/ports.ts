import type { ShowEvent } from '../actors/types.ts';
import type { ShowSummary } from '../actors/views.ts';
import type { BookingView } from '../actors/types.ts';

/** One group-commit batch of one show, as stored in the log. */
export interface LogEntry {
  /** Position in the log; strictly increasing per show (JetStream: the stream sequence). */
  seq: number;
  showId: string;
  /** Unique per batch; the log drops a second append with the same id (dedup window). */
  batchId: string;
  /** The show's version after the batch's first event. */
  firstVersion: number;
  events: ShowEvent[];
}

/** An append under way: the seq it takes if it commits (null: not known yet), and its outcome. */
export interface PipelinedAppend {
  seq: number | null;
  committed: Promise<number>;
}

export interface AppendBatch {
  batchId: string;
  firstVersion: number;
  events: ShowEvent[];
}

/**
 * The replicated event log: the arbiter of who may write a show.
 *
 * Concurrency contract: one writer per show at a time is expected; `append` enforces it.
 * An append states the seq of the last entry the writer has applied for the show (0 for a
 * new show); if anyone else appended since, it fails with NOT_OWNER and writes nothing.
 * Appends for different shows may be in flight at once. A resolved append is durable.
 * Transient failures reject with UNAVAILABLE (retryable); the batch may or may not have
 * been written, so the writer must re-read before writing again.
 */
export interface EventLog {
  append(showId: string, batch: AppendBatch, expectedLastSeq: number): Promise<number>;
  /**
   * Optional (pipelined commits): `append`, also telling at once the seq the batch takes if it
   * commits, so its writer can fence its next append on that seq before this one resolves.
   * Only a log that fixes the seq when the append is made can say (seq null otherwise). If
   * this append fails, an append fenced on its seq must fail too (nothing may land on a seq
   * that was never written). Never throws: failures reject `committed`.
   */
  appendPipelined?(showId: string, batch: AppendBatch, expectedLastSeq: number): PipelinedAppend;
  /** Entries of one show with seq > afterSeq, in order. */
  read(showId: string, afterSeq: number): AsyncIterable<LogEntry>;
  /** Seq of the show's last entry, 0 if none. */
  lastSeq(showId: string): Promise<number>;
  /** Ids of every show that has entries (used to rebuild the catalog of the embedded store). */
  showIds(): Promise<string[]>;
  close(): Promise<void>;
}

/** A show's state at one log position, in the serialized form of `serializeState`. */
export interface Snapshot {
  showId: string;
  version: number;
  logSeq: number;
  state: unknown;
}

/**
 * Latest snapshot per show. `save` never moves a show backwards: a snapshot whose logSeq
 * is not newer than the stored one is ignored (returns false). Safe to call concurrently.
 * `save` reads the snapshot synchronously (before its first await) and never after: the
 * caller may reuse or change the objects once `save` has returned its promise.
 */
export interface SnapshotStore {
  save(snapshot: Snapshot): Promise<boolean>;
  load(showId: string): Promise<Snapshot | null>;
  delete(showId: string): Promise<void>;
  close(): Promise<void>;
}

export interface CatalogFilter {
  city?: string | undefined;
  /** YYYY-MM-DD, matched against the show's local date. */
  date?: string | undefined;
  /** Case-insensitive substring of title or venue. */
  q?: string | undefined;
  limit?: number | undefined;
  offset?: number | undefined;
}

/** The browsable list of shows. Eventually consistent with the actors (updated after commit). */
export interface Catalog {
  upsert(summary: ShowSummary): Promise<void>;
  list(filter: CatalogFilter): Promise<ShowSummary[]>;
  close(): Promise<void>;
}

/**
 * Durable copy of bookings for other services. `upsert` is idempotent by bookingId and
 * resolves only once the rows are committed.
 */
export interface BookingStore {
  upsert(bookings: BookingView[]): Promise<void>;
  get(showId: string, bookingId: string): Promise<BookingView | null>;
  /**
   * One show's bookings matching `query`, in bookingId order (byte order, as JavaScript
   * compares ASCII strings), those after `query.after` only, at most `query.limit`.
   */
  list(showId: string, query: BookingQuery): Promise<BookingView[]>;
  close(): Promise<void>;
}

/** Which bookings of a show a list reads. */
export interface BookingQuery {
  customerId?: string | undefined;
  status?: 'confirmed' | 'cancelled' | undefined;
  /** Only bookings whose id sorts after this one (the last id of the previous page). */
  after?: string | undefined;
  limit: number;
}

/** A subject-based publish/subscribe bus (in-process, or core NATS). Fire and forget. */
export interface Bus {
  /** Largest message the bus carries, in bytes (undefined: no limit); a larger publish is lost. */
  readonly maxMessageBytes?: number | undefined;
  publish(subject: string, message: unknown): void;
  /** `subject` may end in `.>` to match every subject below it. Returns an unsubscribe. */
  subscribe(subject: string, handler: (message: unknown, subject: string) => void): () => void;
  close(): Promise<void>;
}
