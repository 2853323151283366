import type { CommittedBatch } from '../actors/show-actor.ts';
import type { BookingCancelReason, BookingView, Category, ShowEvent } from '../actors/types.ts';
import { bookingView } from '../actors/views.ts';
import type { Logger } from '../logger.ts';
import { OUT_SUBJECTS } from '../subjects.ts';
import { bookingOfConfirm, cancelledBooking } from './durable-bookings.ts';
import type { Bus } from './ports.ts';

/**
 * Events for other services (payment, refunds, notifications), published on the bus after
 * each commit. Contract (documented in the README):
 *
 * - `schemaVersion` 1. New fields may be added; a change of meaning bumps the version.
 * - `eventId` = `${showId}:${version}`, the show version of the event that caused it: the
 *   same change always has the same id, so consumers dedup by it.
 * - Per show, events are published in version order. Delivery is core NATS: at most once
 *   per publish; a process that dies between the commit and the publish loses the events
 *   of that batch (the log still has them). Sagas that must not miss one reconcile from
 *   the bookings table (or the log) by show.
 * - A booking cancelled because its show was cancelled appears both in
 *   `booking.cancelled` (reason `show_cancelled`) and in the `refunds` of
 *   `show.cancelled`: refund once per `bookingId`.
 */
export const OUT_EVENT_SCHEMA_VERSION = 1;

interface Envelope<T extends string> {
  schemaVersion: typeof OUT_EVENT_SCHEMA_VERSION;
  eventId: string;
  type: T;
  showId: string;
  /** The show's version after this event. */
  version: number;
  /** ISO 8601: when the change was decided (for an expiry: when it was committed). */
  occurredAt: string;
}

export interface BookingConfirmedOut extends Envelope<'BookingConfirmed'> {
  booking: BookingView;
}

export interface BookingCancelledOut extends Envelope<'BookingCancelled'> {
  reason: BookingCancelReason;
  /** Status cancelled, with `refundDue`. */
  booking: BookingView;
}

export interface HoldExpiredOut extends Envelope<'HoldExpired'> {
  holdId: string;
  seats: string[];
}

export interface ShowCancelledOut extends Envelope<'ShowCancelled'> {
  reason: string;
  /** Every booking the cancellation cancelled, each with its `refundDue`. */
  refunds: BookingView[];
  refundTotal: number;
  releasedHolds: string[];
}

export interface ShowChangedOut extends Envelope<'ShowChanged'> {
  show: { title: string; city: string; venue: string; startsAt: string; categories: Category[] };
  /** Holds and bookings on seats the new layout no longer has. */
  releasedHolds: string[];
  cancelledBookings: BookingView[];
}

export type OutEvent = BookingConfirmedOut | BookingCancelledOut | HoldExpiredOut | ShowCancelledOut | ShowChangedOut;

export interface OutMessage {
  subject: string;
  event: OutEvent;
}

/** The out-events of one committed batch, in event order. Pure. */
export function outEventsOf(batch: CommittedBatch, now: number = Date.now()): OutMessage[] {
  const { showId, state } = batch;
  const out: OutMessage[] = [];
  // Holds and bookings ended by an admin change, reported with the ShowChanged/ShowCancelled that follows.
  let releasedHolds: string[] = [];
  let cancelledBookings: BookingView[] = [];
  batch.events.forEach((e: ShowEvent, i) => {
    const version = batch.firstVersion + i;
    const base = <T extends string>(type: T, at: number): Envelope<T> => ({
      schemaVersion: OUT_EVENT_SCHEMA_VERSION,
      eventId: `${showId}:${version}`,
      type,
      showId,
      version,
      occurredAt: new Date(at).toISOString(),
    });
    switch (e.type) {
      case 'BookingConfirmed':
        out.push({
          subject: OUT_SUBJECTS.BookingConfirmed,
          event: { ...base('BookingConfirmed', e.at), booking: bookingView(state, bookingOfConfirm(e)) },
        });
        break;
      case 'BookingCancelled': {
        const record = state.bookings.get(e.bookingId);
        if (!record) break;
        const booking = bookingView(state, cancelledBooking(record, e));
        if (e.reason !== 'cancelled') cancelledBookings.push(booking);
        out.push({ subject: OUT_SUBJECTS.BookingCancelled, event: { ...base('BookingCancelled', e.at), reason: e.reason, booking } });
        break;
      }
      case 'HoldExpired':
        // Labels from the seat map after the batch: right unless the same batch also changed the layout.
        out.push({
          subject: OUT_SUBJECTS.HoldExpired,
          event: { ...base('HoldExpired', now), holdId: e.holdId, seats: e.seats.map((s) => state.seatMap.labels[s] ?? String(s)) },
        });
        break;
      case 'HoldReleased':
        if (e.reason === 'show_cancelled' || e.reason === 'layout_changed') releasedHolds.push(e.holdId);
        break;
      case 'ShowCancelled':
        out.push({
          subject: OUT_SUBJECTS.ShowCancelled,
          event: {
            ...base('ShowCancelled', e.at),
            reason: e.reason,
            refunds: cancelledBookings,
            refundTotal: cancelledBookings.reduce((sum, b) => sum + (b.refundDue ?? 0), 0),
            releasedHolds,
          },
        });
        releasedHolds = [];
        cancelledBookings = [];
        break;
      case 'ShowChanged': {
        const { title, city, venue, startsAt, categories } = e.def;
        out.push({
          subject: OUT_SUBJECTS.ShowChanged,
          event: { ...base('ShowChanged', e.at), show: { title, city, venue, startsAt, categories }, releasedHolds, cancelledBookings },
        });
        releasedHolds = [];
        cancelledBookings = [];
        break;
      }
      case 'ShowCreated':
      case 'SeatsHeld':
      case 'HoldExtended':
      case 'SeatsBlocked':
      case 'SeatsUnblocked':
        break;
      default: {
        const unreachable: never = e;
        throw new Error(`unknown event ${(unreachable as ShowEvent).type}`);
      }
    }
  });
  return out;
}

/** A commit listener that publishes each batch's out-events on the bus. */
export function outEventPublisher(bus: Bus, logger: Logger): (batch: CommittedBatch) => void {
  const log = logger.child({ subsystem: 'out-events' });
  return (batch) => {
    let messages: OutMessage[];
    try {
      messages = outEventsOf(batch);
    } catch (err) {
      log.error({ err, showId: batch.showId }, 'could not build out-events');
      return;
    }
    for (const m of messages) bus.publish(m.subject, m.event);
  };
}
