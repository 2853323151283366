import { z } from 'zod';
import { ErrorCode, SeatError } from '../../errors.ts';
import {
  DATE_RE,
  HHMM_RE,
  ID_RE,
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
} from '../edge-rules.ts';

/**
 * Every shape the HTTP API accepts, checked before any actor sees it. Objects are strict
 * (unknown keys, `__proto__` and `constructor` included, are rejected), every string and
 * array is bounded. The shared bounds live in ../edge-rules.ts.
 */


/** 1..1000 seat labels, each at most once. */
const seatList = z
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

const category = z.strictObject({
  id,
  name: text(100).optional(),
  price,
  currency,
});

const row = z.strictObject({
  label: rowLabel,
  seats: int(1, 10_000),
  category: id,
  firstNumber: int(0, 99_999).optional(),
});

const layout = z.strictObject({
  sections: z
    .array(
      z.strictObject({
        id: sectionId,
        name: text(100).optional(),
        rows: z.array(row).min(1).max(2_000),
      }),
    )
    .min(1)
    .max(500),
});

const limits = z.strictObject({
  maxSeatsPerHold: int(1, MAX_SEATS_PER_REQUEST).optional(),
  holdTtlSeconds: int(1, MAX_TTL_SECONDS).optional(),
  maxHoldSeconds: int(1, MAX_TTL_SECONDS).optional(),
  /** null (on a change) lifts the cap. */
  maxSeatsPerCustomer: maxSeatsPerCustomer.nullable().optional(),
});

const offers = z.strictObject({
  nthTicket: z.strictObject({ n: int(1, MAX_SEATS_PER_REQUEST), percentOff: percent }).nullable().optional(),
  afternoon: z
    .strictObject({ from: z.string().regex(HHMM_RE, 'HH:MM'), to: z.string().regex(HHMM_RE, 'HH:MM'), percentOff: percent })
    .nullable()
    .optional(),
});

const startsAt = z.iso.datetime({ offset: true });

const showFields = {
  title: text(200),
  city: text(100),
  venue: text(200),
  startsAt,
  categories: z.array(category).min(1).max(50),
  layout,
  limits: limits.optional(),
  offers: offers.optional(),
};

export const CreateShowBody = z.strictObject({
  id,
  ...showFields,
  blockedSeats: z.array(seatLabel).max(200_000).optional(),
});

export const ChangeShowBody = z
  .strictObject({
    title: showFields.title.optional(),
    city: showFields.city.optional(),
    venue: showFields.venue.optional(),
    startsAt: startsAt.optional(),
    categories: showFields.categories.optional(),
    layout: layout.optional(),
    limits: limits.optional(),
    offers: offers.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');

export const CancelShowBody = z.strictObject({ reason: text(500).optional() });

export const HoldBody = z
  .strictObject({
    seats: seatList.optional(),
    count: int(1, MAX_SEATS_PER_REQUEST).optional(),
    category: id.optional(),
    ttlSeconds: int(1, MAX_TTL_SECONDS).optional(),
    customerId: customerId.optional(),
  })
  .superRefine((v, ctx) => {
    if ((v.seats === undefined) === (v.count === undefined))
      ctx.addIssue({ code: 'custom', message: 'give either seats or count', path: ['seats'] });
    else if (v.seats !== undefined && v.category !== undefined)
      ctx.addIssue({ code: 'custom', message: 'category goes with count, not seats', path: ['category'] });
  });

export const ConfirmBody = z.strictObject({ paymentRef: text(128).optional() });
export const ExtendBody = z.strictObject({ ttlSeconds: int(1, MAX_TTL_SECONDS).optional() });
export const EmptyBody = z.strictObject({});
export const SeatsBody = z.strictObject({ seats: seatList });
export const BulkCancelBody = z.strictObject({ bookingIds: z.array(id).min(1).max(MAX_SEATS_PER_REQUEST) });

/** Query of GET /v1/shows; unknown parameters are ignored (cache busters, tracking tags). */
export const CatalogQuery = z.object({
  city: text(100).optional(),
  date: z.string().regex(DATE_RE, 'YYYY-MM-DD').optional(),
  q: text(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
});

export const ShowQuery = z.object({ format: z.enum(['full', 'compact']).default('full') });

/** Validates `value` or throws INVALID_ARGUMENT listing each problem by path. */
export function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = fields[0];
  const message = first ? `${first.path || 'body'}: ${first.message}` : 'invalid request';
  throw new SeatError(ErrorCode.INVALID_ARGUMENT, message, { fields });
}

/** Checks one id taken from the URL path. */
export function checkId(value: string, what: string): string {
  if (!ID_RE.test(value)) throw new SeatError(ErrorCode.INVALID_ARGUMENT, `${what} is not a valid id`, { fields: [{ path: what, message: 'letters, digits, _ and - only (1-64)' }] });
  return value;
}
