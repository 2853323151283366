import { z } from 'zod';
import { OUT_SUBJECTS } from '../subjects.ts';
import { BookingCancelReason, BookingView, CategoryView } from './responses.ts';

/**
 * The out-events other services consume (src/projections/out-events.ts builds them), as zod
 * schemas for the AsyncAPI description (asyncapi.ts). Objects are open: new fields may
 * appear under the same schemaVersion.
 */

const envelope = <T extends string>(type: T) => ({
  schemaVersion: z.literal(1),
  eventId: z.string().describe('`<showId>:<version>`, or `<showId>:<version>:<page>` for one of several pages: dedup by it'),
  type: z.literal(type),
  showId: z.string(),
  version: z.number().int().min(0).describe("the show's version after this event"),
  occurredAt: z.string().describe('ISO 8601: when the change was decided'),
});

const paged = {
  page: z.number().int().min(1).describe('1-based'),
  pages: z.number().int().min(1),
};

export const BookingConfirmedEvent = z.object({ ...envelope('BookingConfirmed'), booking: BookingView });

export const BookingCancelledEvent = z.object({
  ...envelope('BookingCancelled'),
  reason: BookingCancelReason,
  booking: BookingView.describe('status cancelled, with refundDue'),
});

export const HoldExpiredEvent = z.object({ ...envelope('HoldExpired'), holdId: z.string(), seats: z.array(z.string()) });

export const ShowCancelledEvent = z.object({
  ...envelope('ShowCancelled'),
  ...paged,
  reason: z.string(),
  refunds: z.array(BookingView).describe("this page's share of the cancelled bookings, each with refundDue"),
  refundTotal: z.number().int().min(0).describe("sum of this page's refundDue"),
  releasedHolds: z.array(z.string()),
});

export const ShowChangedEvent = z.object({
  ...envelope('ShowChanged'),
  ...paged,
  show: z.object({ title: z.string(), city: z.string(), venue: z.string(), startsAt: z.string(), categories: z.array(CategoryView) }),
  releasedHolds: z.array(z.string()),
  cancelledBookings: z.array(BookingView),
});

/** Each out-event with its subject, by its `type`. */
export const OUT_EVENT_SCHEMAS = {
  BookingConfirmed: { subject: OUT_SUBJECTS.BookingConfirmed, schema: BookingConfirmedEvent, summary: 'a hold became a booking' },
  BookingCancelled: {
    subject: OUT_SUBJECTS.BookingCancelled,
    schema: BookingCancelledEvent,
    summary: "a booking was cancelled (by its customer, an admin, the show's cancellation or a layout change)",
  },
  HoldExpired: { subject: OUT_SUBJECTS.HoldExpired, schema: HoldExpiredEvent, summary: 'a hold ran out' },
  ShowCancelled: { subject: OUT_SUBJECTS.ShowCancelled, schema: ShowCancelledEvent, summary: 'the show was cancelled (paged)' },
  ShowChanged: { subject: OUT_SUBJECTS.ShowChanged, schema: ShowChangedEvent, summary: 'time, venue, prices or layout changed (paged)' },
} as const;

export const OutEventSchema = z.discriminatedUnion('type', [
  BookingConfirmedEvent,
  BookingCancelledEvent,
  HoldExpiredEvent,
  ShowCancelledEvent,
  ShowChangedEvent,
]);
