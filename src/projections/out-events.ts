import { cancelledRecord } from '../actors/booking-records.ts';
import type { CommittedBatch } from '../actors/show-actor.ts';
import { seatLabelAt, type SeatMap } from '../actors/seat-map.ts';
import type { BookingRecord } from '../actors/show-state.ts';
import type { BookingCancelReason, BookingView, Category, ShowEvent } from '../actors/types.ts';
import type { Logger } from '../logger.ts';
import { OUT_SUBJECTS } from '../subjects.ts';
import { bookingOfConfirm, bookingViewOf } from './booking-rows.ts';
import type { Bus } from '../core/ports.ts';

/**
 * Events for other services (payment, refunds, notifications), published on the bus after
 * each commit. Contract (documented in the README):
 *
 * - `schemaVersion` 1. New fields may be added; a change of meaning bumps the version.
 * - `eventId` = `${showId}:${version}`, the show version of the event that caused it: the
 *   same change always has the same id, so consumers dedup by it.
 * - Per show, events are published in version order. `outEventPublisher` (the in-process
 *   bus) is at most once. With a sink (the JetStream out stream, or the embedded store's
 *   webhook), out-relay.ts delivers the same messages at least once: a batch a process did
 *   not deliver before it died is re-delivered from the log by the show's next activation.
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

/** Where building a big batch's out-events may stop for other work (the publisher yields there). */
export const PAUSE: unique symbol = Symbol('pause');
export type Step = OutMessage | typeof PAUSE;
/** Items sized between two pause points while paging. */
const ITEMS_PER_PAUSE = 1_000;
/** Longest the publisher builds and publishes before letting the event loop run. */
export const PUBLISH_SLICE_MS = 20;

/**
 * Splits two lists into pages whose items' JSON stays within `budgetBytes` each, in order
 * (all of `first`, then all of `second`), into `pages`. Always at least one page. Pauses
 * every ITEMS_PER_PAUSE items: a stadium's refunds are 100,000 items to measure.
 */
function* paginate<A, B>(first: A[], second: B[], budgetBytes: number, pages: Array<[A[], B[]]>): Generator<typeof PAUSE, void> {
  let page: [A[], B[]] = [[], []];
  let bytes = 0;
  let sized = 0;
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
  for (const a of first) {
    add(0, a);
    if (++sized % ITEMS_PER_PAUSE === 0) yield PAUSE;
  }
  for (const b of second) {
    add(1, b);
    if (++sized % ITEMS_PER_PAUSE === 0) yield PAUSE;
  }
  pages.push(page);
}

/**
 * Splits two lists into pages whose items' JSON stays within `budgetBytes` each, in order
 * (all of `first`, then all of `second`). Always at least one page.
 */
export function pageLists<A, B>(first: A[], second: B[], budgetBytes: number): Array<[A[], B[]]> {
  const pages: Array<[A[], B[]]> = [];
  for (const _ of paginate(first, second, budgetBytes, pages));
  return pages;
}

/** Room for the lists: the limit minus the event with empty lists and the largest page fields. */
function listBudget(emptyEvent: object, maxMessageBytes: number): number {
  const envelope = Buffer.byteLength(
    JSON.stringify({ ...emptyEvent, page: Number.MAX_SAFE_INTEGER, pages: Number.MAX_SAFE_INTEGER }),
    'utf8',
  );
  return Math.max(1, maxMessageBytes - envelope - PAGE_SLACK_BYTES);
}

function pageId(eventId: string, page: number, pages: number): string {
  return pages === 1 ? eventId : `${eventId}:${page}`;
}

/**
 * What one batch's out-events are made of, read from the state at commit: the booking records
 * its cancellations ended (records are replaced, never changed, so they stay as they were
 * after the state moves on) and the seat map its expiries are labelled with (immutable).
 * Taking it is cheap; building the messages from it can be done later, in slices.
 */
export interface OutPlan {
  showId: string;
  firstVersion: number;
  events: ShowEvent[];
  /** By index into `events`: the record of each BookingCancelled's booking (absent: unknown booking). */
  cancelled: Array<BookingRecord | undefined>;
  seatMap: SeatMap;
  committedAt: number;
}

export function planOf(batch: CommittedBatch, now: number): OutPlan {
  const { state, events } = batch;
  const cancelled = new Array<BookingRecord | undefined>(events.length);
  events.forEach((e, i) => {
    if (e.type === 'BookingCancelled') cancelled[i] = state.bookings.get(e.bookingId);
  });
  return { showId: batch.showId, firstVersion: batch.firstVersion, events, cancelled, seatMap: state.seatMap, committedAt: now };
}

/** The out-messages of a plan in event order, with pause points between long runs of work. */
export function* messagesOf(plan: OutPlan, maxMessageBytes: number): Generator<Step, void> {
  const { showId } = plan;
  // Holds and bookings ended by an admin change, reported with the ShowChanged/ShowCancelled that follows.
  let releasedHolds: string[] = [];
  let cancelledBookings: BookingView[] = [];
  for (let i = 0; i < plan.events.length; i++) {
    const e = plan.events[i] as ShowEvent;
    const version = plan.firstVersion + i;
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
        yield {
          subject: OUT_SUBJECTS.BookingConfirmed,
          event: { ...base('BookingConfirmed', e.at), booking: bookingViewOf(showId, bookingOfConfirm(e)) },
        };
        break;
      case 'BookingCancelled': {
        const record = plan.cancelled[i];
        if (!record) break;
        const booking = bookingViewOf(showId, cancelledRecord(record, e));
        if (e.reason !== 'cancelled') cancelledBookings.push(booking);
        yield { subject: OUT_SUBJECTS.BookingCancelled, event: { ...base('BookingCancelled', e.at), reason: e.reason, booking } };
        break;
      }
      case 'HoldExpired':
        // Labels from the seat map after the batch: right unless the same batch also changed the layout.
        yield {
          subject: OUT_SUBJECTS.HoldExpired,
          event: {
            ...base('HoldExpired', plan.committedAt),
            holdId: e.holdId,
            seats: e.seats.map((s) => seatLabelAt(plan.seatMap, s) ?? String(s)),
          },
        };
        break;
      case 'HoldReleased':
        if (e.reason === 'show_cancelled' || e.reason === 'layout_changed') releasedHolds.push(e.holdId);
        break;
      case 'ShowCancelled': {
        const head = { ...base('ShowCancelled', e.at), reason: e.reason, refundTotal: Number.MAX_SAFE_INTEGER };
        const pages: Array<[BookingView[], string[]]> = [];
        yield* paginate(cancelledBookings, releasedHolds, listBudget({ ...head, refunds: [], releasedHolds: [] }, maxMessageBytes), pages);
        for (const [p, [refunds, holds]] of pages.entries()) {
          yield {
            subject: OUT_SUBJECTS.ShowCancelled,
            event: {
              ...head,
              eventId: pageId(head.eventId, p + 1, pages.length),
              refunds,
              refundTotal: refunds.reduce((sum, b) => sum + (b.refundDue ?? 0), 0),
              releasedHolds: holds,
              page: p + 1,
              pages: pages.length,
            },
          };
        }
        releasedHolds = [];
        cancelledBookings = [];
        break;
      }
      case 'ShowChanged': {
        const { title, city, venue, startsAt, categories } = e.def;
        const head = { ...base('ShowChanged', e.at), show: { title, city, venue, startsAt, categories } };
        const pages: Array<[BookingView[], string[]]> = [];
        yield* paginate(
          cancelledBookings,
          releasedHolds,
          listBudget({ ...head, releasedHolds: [], cancelledBookings: [] }, maxMessageBytes),
          pages,
        );
        for (const [p, [bookings, holds]] of pages.entries()) {
          yield {
            subject: OUT_SUBJECTS.ShowChanged,
            event: {
              ...head,
              eventId: pageId(head.eventId, p + 1, pages.length),
              releasedHolds: holds,
              cancelledBookings: bookings,
              page: p + 1,
              pages: pages.length,
            },
          };
        }
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
  }
}

/** The out-events of one committed batch, in event order. Pure. */
export function outEventsOf(batch: CommittedBatch, now: number = Date.now(), maxMessageBytes = DEFAULT_OUT_EVENT_MAX_BYTES): OutMessage[] {
  const out: OutMessage[] = [];
  for (const step of messagesOf(planOf(batch, now), maxMessageBytes)) if (step !== PAUSE) out.push(step);
  return out;
}

/**
 * A commit listener that publishes each batch's out-events on the bus, paged to the smaller of
 * `maxMessageBytes` and the bus's own limit. What it needs from the batch is taken at once
 * (the state moves on with the next batch); the messages are built and published in slices of
 * at most PUBLISH_SLICE_MS, the event loop running in between, so a stadium's cancellation
 * (100,000 refunds: seconds of views and JSON) does not stall the worker's heartbeats and
 * other shows. Batches publish one after another, in commit order, so per show the messages
 * keep version order.
 */
export function outEventPublisher(
  bus: Bus,
  logger: Logger,
  opts: {
    maxMessageBytes?: number;
    /** Default PUBLISH_SLICE_MS. */
    sliceMs?: number;
  } = {},
): (batch: CommittedBatch) => void {
  const log = logger.child({ subsystem: 'out-events' });
  const sliceMs = opts.sliceMs ?? PUBLISH_SLICE_MS;
  const limit = Math.min(opts.maxMessageBytes ?? DEFAULT_OUT_EVENT_MAX_BYTES, bus.maxMessageBytes ?? Infinity);
  const queue: Array<{ showId: string; steps: Iterator<Step, void> }> = [];
  let running = false;
  let resumeScheduled = false;
  const run = (): void => {
    resumeScheduled = false;
    running = true;
    const sliceEnd = performance.now() + sliceMs;
    try {
      while (queue.length) {
        const current = queue[0] as (typeof queue)[number];
        let next: IteratorResult<Step, void>;
        try {
          next = current.steps.next();
        } catch (err) {
          log.error({ err, showId: current.showId }, 'could not build out-events');
          queue.shift();
          continue;
        }
        if (next.done) queue.shift();
        else if (next.value !== PAUSE) bus.publish(next.value.subject, next.value.event);
        if (queue.length && performance.now() > sliceEnd) {
          resumeScheduled = true;
          setImmediate(run);
          return;
        }
      }
    } finally {
      running = false;
    }
  };
  return (batch) => {
    let plan: OutPlan;
    try {
      plan = planOf(batch, Date.now());
    } catch (err) {
      log.error({ err, showId: batch.showId }, 'could not build out-events');
      return;
    }
    queue.push({ showId: batch.showId, steps: messagesOf(plan, limit) });
    if (!running && !resumeScheduled) run();
  };
}
