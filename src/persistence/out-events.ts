import type { CommittedBatch } from '../actors/show-actor.ts';
import { seatLabelAt } from '../actors/seat-map.ts';
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
 * - `show.cancelled` and `show.changed` carry lists that grow with the show (a stadium's
 *   100,000 refunds are ~25 MB of JSON), so they go out in pages that each fit the bus's
 *   message limit: `page` (1-based) of `pages`, the lists and `refundTotal` for that page only.
 *   A single page keeps `eventId` = `${showId}:${version}`; with several, page p has
 *   `${showId}:${version}:${p}`.
 */
export const OUT_EVENT_SCHEMA_VERSION = 1;
/** Largest out-event message: the core NATS default max_payload (1 MiB). */
export const DEFAULT_OUT_EVENT_MAX_BYTES = 1024 * 1024;
/** Kept free in each page for what the envelope's size estimate cannot know exactly. */
const PAGE_SLACK_BYTES = 256;

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

/** One page of a change whose lists may not fit one message. */
interface Paged {
  /** 1-based. */
  page: number;
  pages: number;
}

export interface ShowCancelledOut extends Envelope<'ShowCancelled'>, Paged {
  reason: string;
  /** The bookings the cancellation cancelled (this page's share), each with its `refundDue`. */
  refunds: BookingView[];
  /** Sum of this page's `refundDue`s: the pages add up to the cancellation's total. */
  refundTotal: number;
  releasedHolds: string[];
}

export interface ShowChangedOut extends Envelope<'ShowChanged'>, Paged {
  show: { title: string; city: string; venue: string; startsAt: string; categories: Category[] };
  /** Holds and bookings on seats the new layout no longer has (this page's share). */
  releasedHolds: string[];
  cancelledBookings: BookingView[];
}

export type OutEvent = BookingConfirmedOut | BookingCancelledOut | HoldExpiredOut | ShowCancelledOut | ShowChangedOut;

export interface OutMessage {
  subject: string;
  event: OutEvent;
}

/**
 * Splits two lists into pages whose items' JSON stays within `budgetBytes` each, in order
 * (all of `first`, then all of `second`). Always at least one page.
 */
export function pageLists<A, B>(first: A[], second: B[], budgetBytes: number): Array<[A[], B[]]> {
  const pages: Array<[A[], B[]]> = [];
  let page: [A[], B[]] = [[], []];
  let bytes = 0;
  const add = (which: 0 | 1, item: A | B): void => {
    const size = Buffer.byteLength(JSON.stringify(item), 'utf8') + 1; // + the comma
    if (bytes + size > budgetBytes && page[0].length + page[1].length > 0) {
      pages.push(page);
      page = [[], []];
      bytes = 0;
    }
    (page[which] as Array<A | B>).push(item);
    bytes += size;
  };
  for (const a of first) add(0, a);
  for (const b of second) add(1, b);
  pages.push(page);
  return pages;
}

/** Room for the lists: the limit minus the event with empty lists and the largest page fields. */
function listBudget(emptyEvent: object, maxMessageBytes: number): number {
  const envelope = Buffer.byteLength(JSON.stringify({ ...emptyEvent, page: Number.MAX_SAFE_INTEGER, pages: Number.MAX_SAFE_INTEGER }), 'utf8');
  return Math.max(1, maxMessageBytes - envelope - PAGE_SLACK_BYTES);
}

function pageId(eventId: string, page: number, pages: number): string {
  return pages === 1 ? eventId : `${eventId}:${page}`;
}

/** The out-events of one committed batch, in event order. Pure. */
export function outEventsOf(batch: CommittedBatch, now: number = Date.now(), maxMessageBytes = DEFAULT_OUT_EVENT_MAX_BYTES): OutMessage[] {
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
          event: { ...base('HoldExpired', now), holdId: e.holdId, seats: e.seats.map((s) => seatLabelAt(state.seatMap, s) ?? String(s)) },
        });
        break;
      case 'HoldReleased':
        if (e.reason === 'show_cancelled' || e.reason === 'layout_changed') releasedHolds.push(e.holdId);
        break;
      case 'ShowCancelled': {
        const head = { ...base('ShowCancelled', e.at), reason: e.reason, refundTotal: Number.MAX_SAFE_INTEGER };
        const pages = pageLists(cancelledBookings, releasedHolds, listBudget({ ...head, refunds: [], releasedHolds: [] }, maxMessageBytes));
        pages.forEach(([refunds, holds], i) => {
          out.push({
            subject: OUT_SUBJECTS.ShowCancelled,
            event: {
              ...head,
              eventId: pageId(head.eventId, i + 1, pages.length),
              refunds,
              refundTotal: refunds.reduce((sum, b) => sum + (b.refundDue ?? 0), 0),
              releasedHolds: holds,
              page: i + 1,
              pages: pages.length,
            },
          });
        });
        releasedHolds = [];
        cancelledBookings = [];
        break;
      }
      case 'ShowChanged': {
        const { title, city, venue, startsAt, categories } = e.def;
        const head = { ...base('ShowChanged', e.at), show: { title, city, venue, startsAt, categories } };
        const pages = pageLists(cancelledBookings, releasedHolds, listBudget({ ...head, releasedHolds: [], cancelledBookings: [] }, maxMessageBytes));
        pages.forEach(([bookings, holds], i) => {
          out.push({
            subject: OUT_SUBJECTS.ShowChanged,
            event: { ...head, eventId: pageId(head.eventId, i + 1, pages.length), releasedHolds: holds, cancelledBookings: bookings, page: i + 1, pages: pages.length },
          });
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
      case 'EndedForgotten':
        break;
      default: {
        const unreachable: never = e;
        throw new Error(`unknown event ${(unreachable as ShowEvent).type}`);
      }
    }
  });
  return out;
}

/**
 * A commit listener that publishes each batch's out-events on the bus, paged to the smaller of
 * `maxMessageBytes` and the bus's own limit.
 */
export function outEventPublisher(bus: Bus, logger: Logger, opts: { maxMessageBytes?: number } = {}): (batch: CommittedBatch) => void {
  const log = logger.child({ subsystem: 'out-events' });
  const limit = Math.min(opts.maxMessageBytes ?? DEFAULT_OUT_EVENT_MAX_BYTES, bus.maxMessageBytes ?? Infinity);
  return (batch) => {
    let messages: OutMessage[];
    try {
      messages = outEventsOf(batch, Date.now(), limit);
    } catch (err) {
      log.error({ err, showId: batch.showId }, 'could not build out-events');
      return;
    }
    for (const m of messages) bus.publish(m.subject, m.event);
  };
}
