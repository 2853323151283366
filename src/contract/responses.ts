import { z } from 'zod';
import { ErrorCode } from '../errors.ts';

/**
 * What the API answers, as zod schemas: the response views of the HTTP API (and of the
 * WebSocket `result` frames, which carry the same fields). They describe src/actors/views.ts,
 * report.ts, seat-history.ts and the service's replies for the API description
 * (openapi.ts); the contract tests check real answers against them. Objects are open: a new
 * field may appear in an answer without breaking a client (README, "API description").
 */

const nonNegative = z.number().int().min(0);
const isoTime = z.string().describe('ISO 8601 date-time');

export const SeatStatus = z.enum(['available', 'held', 'booked', 'blocked']);
export const ShowStatus = z.enum(['scheduled', 'cancelled']);
export const BookingStatus = z.enum(['confirmed', 'cancelled']);
export const BookingCancelReason = z.enum(['cancelled', 'show_cancelled', 'layout_changed']);

export const CategoryView = z.object({
  id: z.string(),
  name: z.string().optional(),
  price: nonNegative.describe('minor units of currency (paise, cents)'),
  currency: z.string(),
});

export const SeatCounts = z.object({ available: nonNegative, held: nonNegative, booked: nonNegative, blocked: nonNegative });

const LayoutView = z.object({
  sections: z.array(
    z.object({
      id: z.string(),
      name: z.string().optional(),
      rows: z.array(
        z.object({ label: z.string(), seats: z.number().int(), category: z.string(), firstNumber: z.number().int().optional() }),
      ),
    }),
  ),
  unqualifiedSection: z
    .string()
    .nullable()
    .optional()
    .describe('the section whose seat ids carry no prefix; null: every section is prefixed'),
});

const LimitsView = z.object({
  maxSeatsPerHold: z.number().int(),
  holdTtlSeconds: z.number().int(),
  maxHoldSeconds: z.number().int(),
  maxSeatsPerCustomer: z.number().int().nullable().optional(),
});

const OffersView = z.object({
  nthTicket: z.object({ n: z.number().int(), percentOff: z.number() }).nullable(),
  afternoon: z.object({ from: z.string(), to: z.string(), percentOff: z.number() }).nullable(),
});

const CancellationRuleView = z.object({ hoursBeforeStart: z.number(), refundPercent: z.number().int() });

export const SeatView = z.object({ id: z.string(), category: z.string(), price: nonNegative, status: SeatStatus });

/** `GET /v1/shows/{showId}`: the show and its whole seat map. */
export const ShowView = z.object({
  id: z.string(),
  title: z.string(),
  city: z.string(),
  venue: z.string(),
  startsAt: isoTime,
  categories: z.array(CategoryView),
  layout: LayoutView,
  limits: LimitsView,
  offers: OffersView,
  cancellationPolicy: z.array(CancellationRuleView).optional(),
  status: ShowStatus,
  cancelReason: z.string().optional(),
  version: nonNegative,
  layoutVersion: nonNegative,
  capacity: nonNegative,
  counts: SeatCounts,
  seats: z.array(SeatView),
});

/** `GET /v1/shows/{showId}?format=compact`: labels once, one status character per seat. */
export const CompactSeatMap = z.object({
  showId: z.string(),
  version: nonNegative,
  layoutVersion: nonNegative,
  status: ShowStatus,
  labels: z.array(z.string()).describe('seat labels in index order'),
  categoryOf: z.array(nonNegative).describe('per seat: an index into categories'),
  categories: z.array(CategoryView),
  seats: z
    .string()
    .regex(/^[ahbx]*$/)
    .describe('one character per seat: a available, h held, b booked, x blocked'),
  rows: z.array(z.object({ section: z.string(), label: z.string(), start: nonNegative, count: nonNegative })),
});

/** `GET /v1/shows/{showId}`: the full view, or the compact map with `format=compact`. */
export const ShowRead = z.union([ShowView, CompactSeatMap]);

export const ShowSummary = z.object({
  id: z.string(),
  title: z.string(),
  city: z.string(),
  venue: z.string(),
  startsAt: isoTime,
  status: ShowStatus,
  version: nonNegative,
  capacity: nonNegative,
  available: nonNegative,
});
export const ShowList = z.object({ shows: z.array(ShowSummary) });

export const PriceLine = z.object({
  seat: z.string(),
  category: z.string(),
  basePrice: nonNegative,
  discounts: z.array(z.object({ offer: z.enum(['nthTicket', 'afternoon']), amount: nonNegative })),
  price: nonNegative,
});

export const PriceQuote = z.object({ currency: z.string(), lines: z.array(PriceLine), total: nonNegative });

/** A new hold, with the token that confirm, extend and release need. */
export const HoldGranted = z.object({
  holdId: z.string(),
  holdToken: z.string(),
  seats: z.array(z.string()),
  expiresAt: isoTime,
  price: PriceQuote,
  customerId: z.string().optional(),
});

export const HoldExtended = z.object({ holdId: z.string(), expiresAt: isoTime });

export const BookingView = z.object({
  bookingId: z.string(),
  holdId: z.string(),
  showId: z.string(),
  status: BookingStatus,
  seats: z.array(z.string()),
  currency: z.string(),
  lines: z.array(PriceLine),
  total: nonNegative,
  paymentRef: z.string().optional(),
  customerId: z.string().optional(),
  confirmedAt: isoTime,
  cancelledAt: isoTime.optional(),
  cancelReason: BookingCancelReason.optional(),
  refundDue: nonNegative.optional().describe('minor units due back once cancelled'),
  refundPercent: z.number().int().min(0).max(100).optional(),
});

/** A confirm's answer: the booking with the token its customer reads and cancels it with (Booking-Token). */
export const BookingGranted = BookingView.extend({ bookingToken: z.string() });

export const BookingList = z.object({ bookings: z.array(BookingView) });
export const BookingPage = z.object({ bookings: z.array(BookingView), nextCursor: z.string().optional() });

export const ShowCancelled = z.object({ refunds: z.array(BookingView), releasedHolds: z.array(z.string()) });

export const SeatsChanged = z.object({ seats: z.array(z.string()), status: z.enum(['blocked', 'available']) });

export const ShowReport = z.object({
  showId: z.string(),
  version: nonNegative,
  seats: SeatCounts,
  categories: z.record(z.string(), SeatCounts.extend({ price: nonNegative })),
  sections: z.record(z.string(), SeatCounts),
  sales: z.object({
    bookings: nonNegative,
    seats: nonNegative,
    gross: nonNegative,
    refunded: nonNegative,
    net: z.number().int(),
    currency: z.string(),
  }),
});

export const SeatHistory = z.object({
  seatId: z.string(),
  complete: z.boolean(),
  since: nonNegative.optional(),
  history: z.array(
    z.object({
      version: nonNegative,
      at: isoTime.optional(),
      status: SeatStatus,
      holdId: z.string().optional(),
      bookingId: z.string().optional(),
      customerId: z.string().optional(),
      reason: z.string().optional(),
    }),
  ),
});

export const HealthStatus = z.object({ status: z.enum(['ok', 'ready']) });

/** The stable codes of src/errors.ts, every one a client may see. */
export const ErrorCodeSchema = z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]);

/** The body of every error answer (and, with `type: "error"`, of a WebSocket error frame). */
export const ErrorDetail = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  seats: z.array(z.string()).optional().describe('SEAT_UNAVAILABLE: every seat that was taken'),
  fields: z
    .array(z.object({ path: z.string(), message: z.string() }))
    .optional()
    .describe('INVALID_ARGUMENT: each field problem'),
  retryAfterSeconds: z.number().optional().describe('RATE_LIMITED, UNAVAILABLE: seconds until a retry may succeed'),
  total: z.number().int().optional().describe("PRICE_CHANGED: the hold's locked total"),
  currency: z.string().optional(),
});
export const ErrorBody = z.object({ error: ErrorDetail });

/** Every response view, by the name it has in the API description's components. */
export const RESPONSE_SCHEMAS = {
  ShowView,
  CompactSeatMap,
  ShowRead,
  ShowList,
  HoldGranted,
  HoldExtended,
  BookingView,
  BookingGranted,
  BookingList,
  BookingPage,
  ShowCancelled,
  SeatsChanged,
  ShowReport,
  SeatHistory,
  HealthStatus,
  ErrorBody,
} as const;
