import type { CommittedBatch } from '../actors/show-actor.ts';
import type { BookingRecord, ShowState } from '../actors/show-state.ts';
import type { SerializedState } from '../actors/state-codec.ts';
import type { BookingView, ShowEvent } from '../actors/types.ts';
import { bookingView } from '../actors/views.ts';
import { ErrorCode, SeatError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { BookingStore, EventLog, LogEntry, SnapshotStore } from './ports.ts';

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

export function cancelledBooking(b: BookingRecord, e: CancelledEvent): BookingRecord {
  return {
    ...b,
    status: 'cancelled',
    cancelledAt: e.at,
    cancelReason: e.reason,
    ...(e.refundDue !== undefined ? { refundDue: e.refundDue } : {}),
    ...(e.refundPercent !== undefined ? { refundPercent: e.refundPercent } : {}),
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
 * Keeps the `bookings` table in step with the log, the two halves of "a confirm is
 * answered only after its booking row is committed":
 *
 * 1. `beforeReply` (the actor's hook between the append and the replies) upserts the
 *    bookings the batch confirmed or cancelled, one statement per batch. If it fails the
 *    actor stops and nobody hears "ok".
 *
 * 2. `repairingLog(log)` wraps the log the ActorHost activates shows from. A batch can be
 *    in the log without its rows (the process died between the PubAck and the commit, or
 *    the commit failed). Its confirms were never answered, but they happened: a retry
 *    with the same idempotency key gets the booking from state, without a new append, so
 *    without `beforeReply`. The rows must therefore be written at activation, before the
 *    actor answers anything: the wrapper's `read` upserts every booking the replayed tail
 *    touched once the tail is read, and the activation fails (UNAVAILABLE) if it cannot.
 *
 * Why the tail after the snapshot is enough: snapshots are taken only of committed state
 * (after `beforeReply` succeeded for every batch in it) or of state activated through this
 * wrapper (tail repaired first). So every booking change at or below a snapshot's log seq
 * is already in Postgres, and only entries after it can be missing. The upsert is
 * idempotent (immutable rows, cancelled is final), so repeating it is harmless.
 */
export class BookingSync {
  private readonly logger: Logger;

  constructor(
    private readonly store: BookingStore,
    private readonly snapshots: SnapshotStore,
    logger: Logger,
  ) {
    this.logger = logger.child({ subsystem: 'booking-sync' });
  }

  readonly beforeReply = async (batch: CommittedBatch): Promise<void> => {
    const views = bookingsChangedBy(batch);
    if (views.length) await this.store.upsert(views);
  };

  /** An EventLog that, on every full read of a show's tail, upserts the bookings it touched. */
  repairingLog(log: EventLog): EventLog {
    return {
      append: (showId, batch, expectedLastSeq) => log.append(showId, batch, expectedLastSeq),
      read: (showId, afterSeq) => this.readAndRepair(log, showId, afterSeq),
      lastSeq: (showId) => log.lastSeq(showId),
      showIds: () => log.showIds(),
      close: () => log.close(),
    };
  }

  private async *readAndRepair(log: EventLog, showId: string, afterSeq: number): AsyncIterable<LogEntry> {
    const confirmed = new Map<string, BookingRecord>();
    const cancels = new Map<string, CancelledEvent>();
    for await (const entry of log.read(showId, afterSeq)) {
      for (const e of entry.events) {
        if (e.type === 'BookingConfirmed') confirmed.set(e.bookingId, bookingOfConfirm(e));
        else if (e.type === 'BookingCancelled') cancels.set(e.bookingId, e);
      }
      yield entry;
    }
    if (confirmed.size === 0 && cancels.size === 0) return;
    const views = await this.viewsAfterTail(showId, confirmed, cancels);
    try {
      await this.store.upsert(views);
    } catch (err) {
      throw new SeatError(ErrorCode.UNAVAILABLE, 'could not repair the bookings of the replayed log', {}, { cause: err });
    }
    this.logger.info({ showId, afterSeq, bookings: views.length }, 'bookings of the replayed tail upserted');
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
      views.push(bookingViewOf(showId, cancel ? cancelledBooking(b, cancel) : b));
    }
    for (const id of older) {
      const cancel = cancels.get(id) as CancelledEvent;
      const base = fromSnapshot.get(id);
      if (base) {
        views.push(bookingViewOf(showId, cancelledBooking(base, cancel)));
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
