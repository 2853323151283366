import { ErrorCode, SeatError, asSeatError } from '../../errors.ts';

/**
 * The one place SeatError codes become HTTP statuses. A Record over every code, so adding
 * a code to the catalogue fails the type check here until it is mapped.
 *
 * HOLD_LIMIT_EXCEEDED is 422: the request is well formed but asks for more than the
 * show's limits allow (too many seats in one hold or for one customer, a hold extended past
 * its lifetime).
 */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  CUSTOMER_REQUIRED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  SHOW_NOT_FOUND: 404,
  HOLD_NOT_FOUND: 404,
  BOOKING_NOT_FOUND: 404,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  SHOW_EXISTS: 409,
  SEAT_UNAVAILABLE: 409,
  SHOW_CANCELLED: 409,
  HOLD_ALREADY_CONFIRMED: 409,
  PRICE_CHANGED: 409,
  CANCELLATION_CLOSED: 409,
  HOLD_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  HOLD_LIMIT_EXCEEDED: 422,
  IDEMPOTENCY_MISMATCH: 422,
  RATE_LIMITED: 429,
  // WebSocket-only today; a cap on what one client holds open, like a rate limit.
  TOO_MANY_SUBSCRIPTIONS: 429,
  INTERNAL: 500,
  NOT_OWNER: 503,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

export interface HttpError {
  status: number;
  /** Extra response headers (Retry-After). */
  headers: Record<string, string> | null;
  /** The serialized `{"error":{...}}` body. */
  body: string;
  code: ErrorCode;
}

/**
 * Turns anything thrown into the response a client sees. INTERNAL never carries the real
 * message (it may name internals); NOT_OWNER is cluster plumbing, so the client sees the
 * retryable UNAVAILABLE it can act on.
 */
export function toHttpError(err: unknown): HttpError {
  let e = asSeatError(err);
  if (e.code === ErrorCode.INTERNAL) e = new SeatError(ErrorCode.INTERNAL, 'internal error');
  if (e.code === ErrorCode.NOT_OWNER)
    e = new SeatError(ErrorCode.UNAVAILABLE, 'the show is moving between nodes; retry', { retryAfterSeconds: 1 });
  const status = HTTP_STATUS[e.code] ?? 500;
  let headers: Record<string, string> | null = null;
  if (status === 429 || status === 503) headers = { 'retry-after': String(Math.max(1, Math.ceil(e.details.retryAfterSeconds ?? 1))) };
  return { status, headers, body: errorBody(e), code: e.code };
}

/** `{"error":{"code":"<code>","message":` per code, serialized once. */
const BODY_HEADS = new Map<ErrorCode, string>();

/**
 * The `{"error":{...}}` body, the same JSON as `JSON.stringify({ error: e.toJSON() })` byte for
 * byte: a cached head per code, then the message, then the details.
 */
export function errorBody(e: SeatError): string {
  // Details naming `code` or `message` would override them in toJSON's spread: serialize that whole.
  if ('code' in e.details || 'message' in e.details) return JSON.stringify({ error: e.toJSON() });
  let head = BODY_HEADS.get(e.code);
  if (head === undefined) {
    head = `{"error":{"code":${JSON.stringify(e.code)},"message":`;
    BODY_HEADS.set(e.code, head);
  }
  const details = JSON.stringify(e.details);
  // `{}` → nothing more; `{"seats":[…]}` → `,"seats":[…]`.
  return details.length === 2 ? `${head}${JSON.stringify(e.message)}}}` : `${head}${JSON.stringify(e.message)},${details.slice(1)}}`;
}
