import { z } from 'zod';
import { MAX_SEATS_PER_SHOW } from '../../actors/definition.ts';
import { ErrorCode, SeatError } from '../../errors.ts';

/**
 * The bounds every front door (HTTP, gRPC, WebSocket) enforces before any actor sees a
 * request, defined once so the protocols cannot drift apart. Regexes are compiled here, once.
 */

/** Show, hold and booking ids become NATS subject tokens: no dots, spaces or wildcards. */
export const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const SEAT_RE = /^[A-Za-z0-9:_-]{1,32}$/;
/** Keeps `<section>:<row>-<number>` within the 32 characters of a seat label. */
export const SECTION_RE = /^[A-Za-z0-9_-]{1,16}$/;
export const ROW_RE = /^[A-Za-z0-9_]{1,8}$/;
export const HHMM_RE = /^([01]\d|2[0-3]):[0-5]\d$/;
export const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export const MAX_SEATS_PER_REQUEST = 1000;
export const MAX_TTL_SECONDS = 86_400;

export const id = z.string().regex(ID_RE, 'letters, digits, _ and - only (1-64)');
export const seatLabel = z.string().regex(SEAT_RE, 'not a seat label');
export const text = (max: number) => z.string().trim().min(1).max(max);
export const int = (min: number, max: number) => z.number().int().min(min).max(max);
export const percent = z.number().min(0).max(100);
export const price = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const currency = z.string().regex(/^[A-Z]{3}$/, 'a 3-letter ISO 4217 code');
export const sectionId = z.string().regex(SECTION_RE, 'letters, digits, _ and - only (1-16)');
export const rowLabel = z.string().regex(ROW_RE, 'letters, digits and _ only (1-8)');

/**
 * Idempotency keys: long enough that no two clients pick the same one by chance (a UUID is
 * 36), short enough to bound what the gateway and each show remember. Every door refuses
 * anything else with INVALID_ARGUMENT before any work starts.
 */
export const IDEMPOTENCY_KEY_MIN = 16;
export const IDEMPOTENCY_KEY_MAX = 128;
export const IDEMPOTENCY_KEY_RULE = `${IDEMPOTENCY_KEY_MIN}-${IDEMPOTENCY_KEY_MAX} printable ASCII characters`;
const IDEMPOTENCY_KEY_RE = new RegExp(`^[\\x20-\\x7E]{${IDEMPOTENCY_KEY_MIN},${IDEMPOTENCY_KEY_MAX}}$`);
export const idempotencyKey = z.string().regex(IDEMPOTENCY_KEY_RE, IDEMPOTENCY_KEY_RULE);

/** Checks a key from a header or frame field (`where` names it in the error); undefined: none given. */
export function checkIdempotencyKey(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && IDEMPOTENCY_KEY_RE.test(value)) return value;
  throw new SeatError(ErrorCode.INVALID_ARGUMENT, `${where} must be ${IDEMPOTENCY_KEY_RULE}`, {
    fields: [{ path: where, message: IDEMPOTENCY_KEY_RULE }],
  });
}

/**
 * A customer id is taken exactly as sent (never trimmed), so the id a customer token was
 * checked against is the id the show records and caps.
 */
export const CUSTOMER_ID_RULE = '1-128 characters, no control characters, no surrounding spaces';
export const customerId = z
  .string()
  .min(1)
  .max(128)
  .refine((s) => s === s.trim() && !/\p{Cc}/u.test(s), CUSTOMER_ID_RULE);

/** A per-customer cap on held + booked seats in one show; a show holds at most this many seats. */
export const maxSeatsPerCustomer = int(1, MAX_SEATS_PER_SHOW);

/** Checks a customerId read before its request's schema (to establish the caller). */
export function checkCustomerId(value: string): string {
  if (customerId.safeParse(value).success) return value;
  throw new SeatError(ErrorCode.INVALID_ARGUMENT, `customerId: ${CUSTOMER_ID_RULE}`, {
    fields: [{ path: 'customerId', message: CUSTOMER_ID_RULE }],
  });
}
