import { z } from 'zod';
import { ErrorCode, SeatError } from '../../errors.ts';
import {
  DATE_RE,
  HHMM_RE,
  MAX_SEATS_PER_REQUEST,
  MAX_TTL_SECONDS,
  currency,
  customerId,
  id,
  idempotencyKey as idempotencyKeyRule,
  maxSeatsPerCustomer,
  int,
  percent,
  price,
  rowLabel,
  sectionId,
  seatLabel,
  text,
} from '../edge-rules.ts';
import type { CatalogFilter } from '../../persistence/index.ts';
import type { CreateShowInput, HoldRequest } from '../../service/seat-service.ts';

/**
 * Every request message checked before any actor sees it, with the same bounds as the
 * HTTP edge. Requests arrive decoded with proto3 defaults ('' , 0, [], null for an unset
 * message) while `optional` fields are undefined when absent; the schemas read '' and null
 * as "not given". Each schema outputs what the SeatService takes.
 */

const TOKEN_RE = /^[A-Za-z0-9_-]{1,128}$/;

export const DEFAULT_LIST_LIMIT = 100;

const token = z.string().regex(TOKEN_RE, 'not a hold token');
/** A plain proto3 string: its default '' means "not given". */
const idempotencyKey = z
  .union([z.literal(''), idempotencyKeyRule])
  .optional()
  .transform((s) => s || undefined);

/** Distinct seat labels, at most MAX_SEATS_PER_REQUEST. */
const seatList = (min: number) =>
  z
    .array(seatLabel)
    .min(min)
    .max(MAX_SEATS_PER_REQUEST)
    .superRefine((seats, ctx) => {
      if (new Set(seats).size !== seats.length) ctx.addIssue({ code: 'custom', message: 'a seat is listed twice' });
    });

const category = z.object({
  id,
  name: text(100).optional(),
  price,
  currency,
});

const row = z
  .object({
    label: rowLabel,
    seats: int(1, 10_000),
    category: id,
    first_number: int(0, 99_999).optional(),
  })
  .transform(({ first_number, ...r }) => ({ ...r, ...(first_number !== undefined ? { firstNumber: first_number } : {}) }));

const layout = z.object({
  sections: z
    .array(
      z.object({
        id: sectionId,
        name: text(100).optional(),
        rows: z.array(row).min(1).max(2_000),
      }),
    )
    .min(1)
    .max(500),
});

const limits = z
  .object({
    max_seats_per_hold: int(1, MAX_SEATS_PER_REQUEST).optional(),
    hold_ttl_seconds: int(1, MAX_TTL_SECONDS).optional(),
    max_hold_seconds: int(1, MAX_TTL_SECONDS).optional(),
    max_seats_per_customer: maxSeatsPerCustomer.optional(),
  })
  .transform((l) => ({
    ...(l.max_seats_per_hold !== undefined ? { maxSeatsPerHold: l.max_seats_per_hold } : {}),
    ...(l.hold_ttl_seconds !== undefined ? { holdTtlSeconds: l.hold_ttl_seconds } : {}),
    ...(l.max_hold_seconds !== undefined ? { maxHoldSeconds: l.max_hold_seconds } : {}),
    ...(l.max_seats_per_customer !== undefined ? { maxSeatsPerCustomer: l.max_seats_per_customer } : {}),
  }));

/**
 * `none: true` switches an offer off (null over HTTP); otherwise the offer's fields apply.
 * Wrapped in `{ offer }` so "switched off" (null) stays apart from "not given" (an unset
 * message, also null).
 */
const nthTicket = z
  .discriminatedUnion('none', [
    z.object({ none: z.literal(true) }),
    z.object({ none: z.literal(false), n: int(1, MAX_SEATS_PER_REQUEST), percent_off: percent }),
  ])
  .transform((o) => ({ offer: o.none ? null : { n: o.n, percentOff: o.percent_off } }));
const afternoon = z
  .discriminatedUnion('none', [
    z.object({ none: z.literal(true) }),
    z.object({ none: z.literal(false), from: z.string().regex(HHMM_RE, 'HH:MM'), to: z.string().regex(HHMM_RE, 'HH:MM'), percent_off: percent }),
  ])
  .transform((o) => ({ offer: o.none ? null : { from: o.from, to: o.to, percentOff: o.percent_off } }));
const offers = z
  .object({ nth_ticket: nthTicket.nullable(), afternoon: afternoon.nullable() })
  .transform((o) => ({
    ...(o.nth_ticket !== null ? { nthTicket: o.nth_ticket.offer } : {}),
    ...(o.afternoon !== null ? { afternoon: o.afternoon.offer } : {}),
  }));

const showId = { show_id: id };

export const CreateShowRequest = z
  .object({
    id,
    title: text(200),
    city: text(100),
    venue: text(200),
    starts_at: z.iso.datetime({ offset: true }),
    categories: z.array(category).min(1).max(50),
    layout,
    limits: limits.nullable(),
    offers: offers.nullable(),
    blocked_seats: z.array(seatLabel).max(200_000),
    idempotency_key: idempotencyKey,
  })
  .transform((r): { input: CreateShowInput; idempotencyKey: string | undefined } => ({
    input: {
      id: r.id,
      title: r.title,
      city: r.city,
      venue: r.venue,
      startsAt: r.starts_at,
      categories: r.categories.map((c) => ({ id: c.id, price: c.price, currency: c.currency, ...(c.name !== undefined ? { name: c.name } : {}) })),
      layout: {
        sections: r.layout.sections.map((s) => ({ id: s.id, rows: s.rows, ...(s.name !== undefined ? { name: s.name } : {}) })),
      },
      ...(r.limits ? { limits: r.limits } : {}),
      ...(r.offers ? { offers: r.offers } : {}),
      ...(r.blocked_seats.length ? { blockedSeats: r.blocked_seats } : {}),
    },
    idempotencyKey: r.idempotency_key,
  }));

export const GetShowRequest = z.object({ ...showId, compact: z.boolean().optional() });

export const ListShowsRequest = z
  .object({
    city: text(100).optional(),
    date: z.string().regex(DATE_RE, 'YYYY-MM-DD').optional(),
    q: text(100).optional(),
    limit: int(1, 500).optional(),
    offset: int(0, 1_000_000).optional(),
  })
  .transform((r): CatalogFilter => ({
    limit: r.limit ?? DEFAULT_LIST_LIMIT,
    ...(r.city !== undefined ? { city: r.city } : {}),
    ...(r.date !== undefined ? { date: r.date } : {}),
    ...(r.q !== undefined ? { q: r.q } : {}),
    ...(r.offset !== undefined ? { offset: r.offset } : {}),
  }));

export const HoldRequestSchema = z
  .object({
    ...showId,
    // proto3 cannot tell an empty list from none: [] means "no named seats".
    seats: seatList(0),
    count: int(1, MAX_SEATS_PER_REQUEST).optional(),
    category: id.optional(),
    ttl_seconds: int(1, MAX_TTL_SECONDS).optional(),
    customer_id: customerId.optional(),
    idempotency_key: idempotencyKey,
  })
  .superRefine((v, ctx) => {
    if ((v.seats.length > 0) === (v.count !== undefined))
      ctx.addIssue({ code: 'custom', message: 'give either seats or count', path: ['seats'] });
    else if (v.seats.length > 0 && v.category !== undefined)
      ctx.addIssue({ code: 'custom', message: 'category goes with count, not seats', path: ['category'] });
  })
  .transform((r): { showId: string; req: HoldRequest; idempotencyKey: string | undefined } => ({
    showId: r.show_id,
    req: {
      ...(r.seats.length ? { seats: r.seats } : {}),
      ...(r.count !== undefined ? { count: r.count } : {}),
      ...(r.category !== undefined ? { category: r.category } : {}),
      ...(r.ttl_seconds !== undefined ? { ttlSeconds: r.ttl_seconds } : {}),
      ...(r.customer_id !== undefined ? { customerId: r.customer_id } : {}),
    },
    idempotencyKey: r.idempotency_key,
  }));

const holdRef = { ...showId, hold_id: id, hold_token: token, idempotency_key: idempotencyKey };

export const ConfirmRequest = z.object({ ...holdRef, payment_ref: text(128).optional() });
export const ReleaseRequest = z.object(holdRef);
export const ExtendHoldRequest = z.object({ ...holdRef, ttl_seconds: int(1, MAX_TTL_SECONDS).optional() });
export const GetBookingRequest = z.object({ ...showId, booking_id: id });
export const CancelBookingRequest = z.object({ ...showId, booking_id: id, idempotency_key: idempotencyKey });
export const CancelShowRequest = z.object({ ...showId, reason: text(500).optional(), idempotency_key: idempotencyKey });
export const WatchShowRequest = z.object({ ...showId, from_version: int(0, Number.MAX_SAFE_INTEGER).optional() });

/** Validates `value` or throws INVALID_ARGUMENT listing each problem by field path. */
export function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = result.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = fields[0];
  const message = first ? `${first.path || 'request'}: ${first.message}` : 'invalid request';
  throw new SeatError(ErrorCode.INVALID_ARGUMENT, message, { fields });
}
