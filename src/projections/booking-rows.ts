import { cancelledRecord } from '../actors/booking-records.ts';
import type { CommittedBatch } from '../actors/show-actor.ts';
import type { BookingRecord, ShowState } from '../actors/show-state.ts';
import type { SerializedState } from '../actors/state-codec.ts';
import type { BookingView, ShowEvent } from '../actors/types.ts';
import { bookingView } from '../actors/views.ts';
import type { BookingRowGuard } from '../actors/show-actor.ts';
import { ErrorCode, SeatError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { BookingStore, SnapshotStore } from '../core/ports.ts';
import type { ReplayedTail } from '../core/replayed-tail.ts';

type ConfirmedEvent = Extract<ShowEvent, { type: 'BookingConfirmed' }>;
type CancelledEvent = Extract<ShowEvent, { type: 'BookingCancelled' }>;

/**
 * The booking a BookingConfirmed event creates, from the event alone. The seat labels are
 * the quote's lines: `quoteSeats` prices the hold's seats in order, one line per seat, with
 * the seat map of the same moment, so they equal what `evolve` derives from the indices.
 */
export function bookingOfConfirm(e: ConfirmedEvent): BookingRecord {
  return {
    bookingId: e.bookingId,
    holdId: e.holdId,
    seats: e.quote.lines.map((l) => l.seat),
    quote: e.quote,
    confirmedAt: e.at,
    status: 'confirmed',
    ...(e.paymentRef !== undefined ? { paymentRef: e.paymentRef } : {}),
    ...(e.customerId !== undefined ? { customerId: e.customerId } : {}),
  };
}

/** `bookingView` reads nothing of the state but the show id; this is it without a state. */
export function bookingViewOf(showId: string, b: BookingRecord): BookingView {
  return bookingView({ def: { id: showId } } as ShowState, b);
}

/** The bookings a committed batch confirmed or cancelled, as they stand after it. */
export function bookingsChangedBy(batch: CommittedBatch): BookingView[] {
  const ids = new Set<string>();
  for (const e of batch.events) if (e.type === 'BookingConfirmed' || e.type === 'BookingCancelled') ids.add(e.bookingId);
  const views: BookingView[] = [];
  for (const id of ids) {
    const b = batch.state.bookings.get(id);
    if (b) views.push(bookingView(batch.state, b));
  }
  return views;
}

/**
 * How a failed booking-row write counts: the BookingStore port rejects with a SeatError
 * (UNAVAILABLE while the store is away, postgres-booking-store.ts); anything else is taken
 * as the store being away, so the rows are owed and retried.
 */
function rowWriteFailure(err: unknown): SeatError {
  return err instanceof SeatError ? err : new SeatError(ErrorCode.UNAVAILABLE, 'booking upsert failed', {}, { cause: err });
}

/** How often rows that could not be written are tried again. */
export const BOOKING_ROWS_RETRY_MS = 500;
/** What a caller refused while booking rows cannot be written is told to wait. */
export const BOOKING_ROWS_RETRY_AFTER_SECONDS = 1;

/** Rows a show owes the bookings table: which bookings, and how to render them when retried. */
interface Debt {
  showId: string;
  bookingIds: Set<string>;
  views: () => Promise<BookingView[]>;
}

/**
 * Keeps the `bookings` table in step with the log, the two halves of "a confirm is
 * answered only after its booking row is committed":
 *
 * 1. `beforeReply` (the actor's hook between the append and the replies) upserts the
 *    bookings the batch confirmed or cancelled. The store merges the rows of batches of
 *    many shows into one statement (group commit); a failed statement fails each batch it
 *    carried, and each becomes a debt of its own show.
 *
 * 2. `repairTail` (the actor host's `afterReplay` step, before the actor serves) upserts
 *    every booking the replayed tail touched, and the rows a warm copy carries. A batch
 *    can be in the log without its rows (the process died between the PubAck and the
 *    commit, or the commit failed).
 *
 * Postgres is for bookings, not for holds: a write that fails (Postgres down) stops
 * nothing. Its rows become a debt of the show, retried every BOOKING_ROWS_RETRY_MS; as the
 * actor's BookingRowGuard this class then holds back every answer naming an owed booking
 * (UNAVAILABLE, retryable: the retry gets the same booking once the row is written), refuses
 * new booking changes while Postgres is down (so nothing is sold that nobody can be told
 * about), and keeps the show's snapshots back until its rows are written.
 *
 * Why the tail after the snapshot is enough: snapshots are taken only of state whose every
 * booking row is written (`owesRows` keeps them back otherwise) or of state activated
 * through `repairTail` (tail repaired first, or owed). So every booking change at or below
 * a snapshot's log seq is already in Postgres, and only entries after it can be missing. The
 * upsert is idempotent (immutable rows, cancelled is final), so repeating it is harmless.
 */
export class BookingSync implements BookingRowGuard {
  private readonly logger: Logger;
  private readonly debts = new Set<Debt>();
  /** Set while the last write failed for want of Postgres; cleared by the next one that succeeds. */
  private outage = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retrying = false;
  private closed = false;

  constructor(
    private readonly store: BookingStore,
    private readonly snapshots: SnapshotStore,
    logger: Logger,
  ) {
    this.logger = logger.child({ subsystem: 'booking-sync' });
  }

  readonly beforeReply = async (batch: CommittedBatch): Promise<void> => {
    const views = bookingsChangedBy(batch);
    if (!views.length) return;
    try {
      await this.store.upsert(views);
      this.outage = false;
    } catch (err) {
      this.owe(batch.showId, new Set(views.map((v) => v.bookingId)), () => Promise.resolve(views), err);
      throw err;
    }
  };

  refusal(showId: string): SeatError | null {
    if (!this.outage && !this.owesRows(showId)) return null;
    return new SeatError(ErrorCode.UNAVAILABLE, 'bookings cannot be written right now; retry shortly', {
      retryAfterSeconds: BOOKING_ROWS_RETRY_AFTER_SECONDS,
    });
  }

  owed(showId: string, bookingId: string): SeatError | null {
    for (const d of this.debts)
      if (d.showId === showId && d.bookingIds.has(bookingId))
        return new SeatError(
          ErrorCode.UNAVAILABLE,
          'the booking is recorded but its row is not written yet; retry with the same idempotency key',
          {
            retryAfterSeconds: BOOKING_ROWS_RETRY_AFTER_SECONDS,
          },
        );
    return null;
  }

  owesRows(showId: string): boolean {
    for (const d of this.debts) if (d.showId === showId) return true;
    return false;
  }

  /** Booking rows still to be written, across shows (metrics, tests). */
  get owedBookings(): number {
    let n = 0;
    for (const d of this.debts) n += d.bookingIds.size;
    return n;
  }

  /** Stops retrying (the rows left are repaired from the log at the next activation). */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private owe(showId: string, bookingIds: Set<string>, views: () => Promise<BookingView[]>, err: unknown): void {
    const failure = rowWriteFailure(err);
    if (failure.code === ErrorCode.UNAVAILABLE) this.outage = true;
    this.debts.add({ showId, bookingIds, views });
    this.logger.warn(
      { showId, bookings: bookingIds.size, code: failure.code, err },
      'booking rows not written; retrying in the background',
    );
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.retrying || this.closed || this.debts.size === 0) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.retryDebts();
    }, BOOKING_ROWS_RETRY_MS);
    this.retryTimer.unref();
  }

  /**
   * Writes every owed row at once: the store merges the shows' debts into shared statements
   * (group commit), and a debt leaves only when the statement carrying its rows committed.
   * Debts that fail wait for the next round.
   */
  private async retryDebts(): Promise<void> {
    this.retrying = true;
    try {
      const debts = [...this.debts];
      const results = await Promise.allSettled(debts.map(async (d) => this.store.upsert(await d.views())));
      if (this.closed) return;
      let unavailable = false;
      results.forEach((r, i) => {
        const d = debts[i];
        if (r.status === 'fulfilled') {
          this.debts.delete(d);
          this.logger.info({ showId: d.showId, bookings: d.bookingIds.size }, 'owed booking rows written');
          return;
        }
        const failure = rowWriteFailure(r.reason);
        if (failure.code === ErrorCode.UNAVAILABLE) unavailable = true;
        this.logger.debug({ showId: d.showId, code: failure.code, owed: this.owedBookings }, 'owed booking rows still not written');
      });
      this.outage = unavailable;
    } finally {
      this.retrying = false;
      this.scheduleRetry();
    }
  }

  /**
   * A BookingStore whose `upsert` never fails for want of Postgres: rows it cannot write
   * become debts of their shows (retried, and held back from answers like any other). For
   * the rows a warm copy brings to an activation.
   */
  private owingStore(): BookingStore {
    return {
      upsert: async (views) => {
        if (!views.length) return;
        try {
          await this.store.upsert(views);
          this.outage = false;
        } catch (err) {
          const byShow = new Map<string, BookingView[]>();
          for (const v of views) byShow.set(v.showId, [...(byShow.get(v.showId) ?? []), v]);
          for (const [showId, vs] of byShow) this.owe(showId, new Set(vs.map((v) => v.bookingId)), () => Promise.resolve(vs), err);
        }
      },
      get: (showId, bookingId) => this.store.get(showId, bookingId),
      list: (showId, query) => this.store.list(showId, query),
      close: () => Promise.resolve(),
    };
  }

  /**
   * The host's `afterReplay` step for bookings: upserts every booking the replayed tail
   * confirmed or cancelled (after the rows a warm copy carries). A batch can be in the log
   * without its rows (the process died between the append and the row commit, or the commit
   * failed); its confirms were never answered, but they happened, and a retry with the same
   * idempotency key gets the booking from state without a new append, so without
   * `beforeReply`. Never fails: rows it cannot write become debts of the show, which still
   * activates (its holds need no Postgres; answers naming these bookings wait).
   */
  async repairTail(showId: string, tail: ReplayedTail): Promise<void> {
    if (tail.warm?.bookings?.length) await this.owingStore().upsert(tail.warm.bookings);
    const confirmed = new Map<string, BookingRecord>();
    const cancels = new Map<string, CancelledEvent>();
    for (const entry of tail.entries)
      for (const e of entry.events) {
        if (e.type === 'BookingConfirmed') confirmed.set(e.bookingId, bookingOfConfirm(e));
        else if (e.type === 'BookingCancelled') cancels.set(e.bookingId, e);
      }
    if (confirmed.size === 0 && cancels.size === 0) return;
    const views = () => this.viewsAfterTail(showId, confirmed, cancels);
    try {
      const rendered = await views();
      await this.store.upsert(rendered);
      this.outage = false;
      this.logger.info({ showId, afterSeq: tail.afterSeq, bookings: rendered.length }, 'bookings of the replayed tail upserted');
    } catch (err) {
      this.owe(showId, new Set([...confirmed.keys(), ...cancels.keys()]), views, err);
    }
  }

  /**
   * Final form of each booking the tail touched. A cancel of a booking confirmed before
   * the snapshot needs that booking's details: from a fresh load of the snapshot (its own
   * copy, not the one the activation is mutating), else from the row already in Postgres.
   */
  private async viewsAfterTail(
    showId: string,
    confirmed: Map<string, BookingRecord>,
    cancels: Map<string, CancelledEvent>,
  ): Promise<BookingView[]> {
    const older = [...cancels.keys()].filter((id) => !confirmed.has(id));
    const fromSnapshot = new Map<string, BookingRecord>();
    if (older.length) {
      const snap = await this.snapshots.load(showId);
      const wanted = new Set(older);
      for (const [id, b] of (snap?.state as SerializedState | undefined)?.bookings ?? []) if (wanted.has(id)) fromSnapshot.set(id, b);
    }
    const views: BookingView[] = [];
    for (const [id, b] of confirmed) {
      const cancel = cancels.get(id);
      views.push(bookingViewOf(showId, cancel ? cancelledRecord(b, cancel) : b));
    }
    for (const id of older) {
      const cancel = cancels.get(id) as CancelledEvent;
      const base = fromSnapshot.get(id);
      if (base) {
        views.push(bookingViewOf(showId, cancelledRecord(base, cancel)));
        continue;
      }
      const row = await this.store.get(showId, id);
      if (!row) {
        this.logger.error({ showId, bookingId: id }, 'cancelled booking has no confirm in the log tail, the snapshot or postgres');
        continue;
      }
      if (row.status === 'cancelled') continue;
      views.push({
        ...row,
        status: 'cancelled',
        cancelledAt: new Date(cancel.at).toISOString(),
        cancelReason: cancel.reason,
        refundDue: cancel.refundDue ?? row.total,
        ...(cancel.refundPercent !== undefined ? { refundPercent: cancel.refundPercent } : {}),
      });
    }
    return views;
  }
}
