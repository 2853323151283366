import { z } from 'zod';
import {
  HHMM_RE,
  MAX_SEATS_PER_REQUEST,
  MAX_TTL_SECONDS,
  currency,
  customerId,
  id,
  maxSeatsPerCustomer,
  int,
  percent,
  price,
  rowLabel,
  sectionId,
  seatLabel,
  text,
} from './edge-rules.ts';

/**
 * Every command's fields, declared once in the HTTP API's camelCase and checked before any
 * actor sees them. The doors only add their envelope: HTTP takes these as bodies, a
 * WebSocket frame is the same fields plus `type` / `requestId`, a gRPC message is the same
 * fields in snake_case (grpc/validation.ts renames them), and the cluster worker checks
 * routed ops with them again. Objects are strict (unknown keys, `__proto__` and
 * `constructor` included, are refused); every string and array is bounded.
 */

/** A seat or show version number. */
export const version = int(0, Number.MAX_SAFE_INTEGER);
/** The hold token as the doors accept it; a wrong token is the service's FORBIDDEN. */
export const HOLD_TOKEN_MAX = 256;
export const holdToken = z.string().min(1).max(HOLD_TOKEN_MAX);
export const ttlSeconds = int(1, MAX_TTL_SECONDS);

/** 1..MAX_SEATS_PER_REQUEST seat labels, each at most once. */
export const seatList = z
  .array(seatLabel)
  .min(1)
  .max(MAX_SEATS_PER_REQUEST)
  .superRefine((seats, ctx) => {
    if (new Set(seats).size === seats.length) return;
    const seen = new Set<string>();
    const repeated = new Set<string>();
    for (const s of seats) (seen.has(s) ? repeated : seen).add(s);
    ctx.addIssue({ code: 'custom', message: `seats listed twice: ${[...repeated].join(', ')}` });
  });

// The show's definition fields are exactOptional (absent, never undefined): limits and offers
// are spread over the defaults, where an undefined would erase one. JSON cannot carry
// undefined, and the gRPC door drops unset fields before the check.
const category = z.strictObject({
  id,
  name: text(100).exactOptional(),
  price,
  currency,
});

const row = z.strictObject({
  label: rowLabel,
  seats: int(1, 10_000),
  category: id,
  firstNumber: int(0, 99_999).exactOptional(),
});

const layout = z.strictObject({
  sections: z
    .array(
      z.strictObject({
        id: sectionId,
        name: text(100).exactOptional(),
        rows: z.array(row).min(1).max(2_000),
      }),
    )
    .min(1)
    .max(500),
  /** Which section's seat ids carry no prefix: chosen at creation, sent back unchanged on a change. */
  unqualifiedSection: sectionId.nullable().exactOptional(),
});

const limits = z.strictObject({
  maxSeatsPerHold: int(1, MAX_SEATS_PER_REQUEST).exactOptional(),
  holdTtlSeconds: ttlSeconds.exactOptional(),
  maxHoldSeconds: ttlSeconds.exactOptional(),
  /** null (on a change) lifts the cap. */
  maxSeatsPerCustomer: maxSeatsPerCustomer.nullable().exactOptional(),
});

const offers = z.strictObject({
  nthTicket: z
    .strictObject({ n: int(1, MAX_SEATS_PER_REQUEST), percentOff: percent })
    .nullable()
    .exactOptional(),
  afternoon: z
    .strictObject({ from: z.string().regex(HHMM_RE, 'HH:MM'), to: z.string().regex(HHMM_RE, 'HH:MM'), percentOff: percent })
    .nullable()
    .exactOptional(),
});

const startsAt = z.iso.datetime({ offset: true });

/** Most rules in one cancellation policy, and the furthest ahead a rule may reach (ten years). */
export const MAX_CANCELLATION_RULES = 20;
export const MAX_HOURS_BEFORE_START = 87_600;
/** A refund percent: whole, 0-100 (the refund is rounded to the minor unit, see cancellation-policy.ts). */
export const refundPercent = int(0, 100);

/** The show's cancellation policy; two rules at the same hour would be ambiguous. Empty: customers cannot cancel. */
export const cancellationPolicy = z
  .array(z.strictObject({ hoursBeforeStart: z.number().min(0).max(MAX_HOURS_BEFORE_START), refundPercent }))
  .max(MAX_CANCELLATION_RULES)
  .superRefine((rules, ctx) => {
    const hours = rules.map((r) => r.hoursBeforeStart);
    if (new Set(hours).size !== hours.length) ctx.addIssue({ code: 'custom', message: 'two rules with the same hoursBeforeStart' });
  });

const showFields = {
  title: text(200),
  city: text(100),
  venue: text(200),
  startsAt,
  categories: z.array(category).min(1).max(50),
  layout,
  limits: limits.exactOptional(),
  offers: offers.exactOptional(),
  cancellationPolicy: cancellationPolicy.exactOptional(),
};

export const CreateShowCommand = z.strictObject({
  id,
  ...showFields,
  blockedSeats: z.array(seatLabel).max(200_000).exactOptional(),
});

export const ChangeShowCommand = z
  .strictObject({
    title: showFields.title.exactOptional(),
    city: showFields.city.exactOptional(),
    venue: showFields.venue.exactOptional(),
    startsAt: startsAt.exactOptional(),
    categories: showFields.categories.exactOptional(),
    layout: layout.exactOptional(),
    limits: limits.exactOptional(),
    offers: offers.exactOptional(),
    cancellationPolicy: cancellationPolicy.exactOptional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');

export const CancelShowCommand = z.strictObject({ reason: text(500).optional() });

/** A hold's own fields; each door wraps them in its envelope and applies `holdChoice`. */
export const holdFields = {
  seats: seatList.optional(),
  count: int(1, MAX_SEATS_PER_REQUEST).optional(),
  category: id.optional(),
  ttlSeconds: ttlSeconds.optional(),
  customerId: customerId.optional(),
};

/** Named seats or a count (optionally of one category), never both. */
export function holdChoice(
  v: { seats?: string[] | undefined; count?: number | undefined; category?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if ((v.seats === undefined) === (v.count === undefined))
    ctx.addIssue({ code: 'custom', message: 'give either seats or count', path: ['seats'] });
  else if (v.seats !== undefined && v.category !== undefined)
    ctx.addIssue({ code: 'custom', message: 'category goes with count, not seats', path: ['category'] });
}

export const HoldCommand = z.strictObject(holdFields).superRefine(holdChoice);

/** Which hold a command acts on: the HTTP edge takes these from the URL and Hold-Token header. */
export const holdRef = { holdId: id, holdToken };

export const extendFields = { ttlSeconds: ttlSeconds.optional() };
/** expectedTotal: the hold's total the customer saw; a confirm against another total is refused (PRICE_CHANGED). */
export const confirmFields = {
  paymentRef: text(128).optional(),
  expectedTotal: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
};
export const ExtendCommand = z.strictObject(extendFields);
export const ConfirmCommand = z.strictObject(confirmFields);
export const EmptyCommand = z.strictObject({});
/** Block or unblock seats. */
export const SeatsCommand = z.strictObject({ seats: seatList });
/** Admin cancel of several bookings; `refundPercent` (default 100) of each total is due back. */
export const CancelBookingsCommand = z.strictObject({
  bookingIds: z.array(id).min(1).max(MAX_SEATS_PER_REQUEST),
  refundPercent: refundPercent.optional(),
});
/** Admin cancel of one booking (its id is in the URL). */
export const AdminCancelCommand = z.strictObject({ refundPercent: refundPercent.optional() });
/** A customer's cancel of their own booking: nothing to choose, the show's policy decides the refund. */
export const CustomerCancelCommand = z.strictObject({});
/** The Booking-Token as the doors accept it; a wrong one is the service's FORBIDDEN. */
export const BOOKING_TOKEN_MAX = 256;
export const bookingToken = z.string().min(1).max(BOOKING_TOKEN_MAX);

/** The admin's booking list: filters, page size (default 100, at most 500) and the cursor of the page before. */
export const bookingListFields = {
  customerId: customerId.optional(),
  status: z.enum(['confirmed', 'cancelled']).optional(),
  limit: int(1, 500).optional(),
  cursor: id.optional(),
};
export const BookingListQuery = z.strictObject(bookingListFields);

/** Watch (WebSocket subscribe, gRPC WatchShow) a show's seat map. */
export const watchFields = {
  showId: id,
  /** The version the client already has: send only what it missed, when still available. */
  fromVersion: version.optional(),
  /** The layout version whose labels the client has cached: the snapshot may omit them. */
  layoutVersion: version.optional(),
};

/** Field problems of a failed parse, in the error catalogue's `fields` shape. */
export function issueFields(error: z.ZodError, max: number): Array<{ path: string; message: string }> {
  return error.issues.slice(0, max).map((i) => ({ path: i.path.join('.'), message: i.message }));
}
