import { asSeatError, ErrorCode, SeatError } from '../../errors.ts';
import type { ErrorFrameShape } from './protocol.ts';

/**
 * The one mapping from the error catalogue to WebSocket error frames, as error-mapping.ts is
 * for HTTP and status-map.ts for gRPC. A Record over every code, so a new code fails the type
 * check here until it is mapped. Codes go out as they are, except cluster plumbing: NOT_OWNER
 * becomes the retryable UNAVAILABLE a client can act on.
 */
export const WS_CODE: Readonly<Record<ErrorCode, ErrorCode>> = {
  INVALID_ARGUMENT: ErrorCode.INVALID_ARGUMENT,
  UNAUTHENTICATED: ErrorCode.UNAUTHENTICATED,
  FORBIDDEN: ErrorCode.FORBIDDEN,
  SHOW_NOT_FOUND: ErrorCode.SHOW_NOT_FOUND,
  HOLD_NOT_FOUND: ErrorCode.HOLD_NOT_FOUND,
  BOOKING_NOT_FOUND: ErrorCode.BOOKING_NOT_FOUND,
  NOT_FOUND: ErrorCode.NOT_FOUND,
  SHOW_EXISTS: ErrorCode.SHOW_EXISTS,
  SEAT_UNAVAILABLE: ErrorCode.SEAT_UNAVAILABLE,
  SHOW_CANCELLED: ErrorCode.SHOW_CANCELLED,
  HOLD_LIMIT_EXCEEDED: ErrorCode.HOLD_LIMIT_EXCEEDED,
  IDEMPOTENCY_MISMATCH: ErrorCode.IDEMPOTENCY_MISMATCH,
  HOLD_ALREADY_CONFIRMED: ErrorCode.HOLD_ALREADY_CONFIRMED,
  PRICE_CHANGED: ErrorCode.PRICE_CHANGED,
  CANCELLATION_CLOSED: ErrorCode.CANCELLATION_CLOSED,
  HOLD_EXPIRED: ErrorCode.HOLD_EXPIRED,
  PAYLOAD_TOO_LARGE: ErrorCode.PAYLOAD_TOO_LARGE,
  RATE_LIMITED: ErrorCode.RATE_LIMITED,
  NOT_OWNER: ErrorCode.UNAVAILABLE,
  UNAVAILABLE: ErrorCode.UNAVAILABLE,
  DEADLINE_EXCEEDED: ErrorCode.DEADLINE_EXCEEDED,
  INTERNAL: ErrorCode.INTERNAL,
  UNSUPPORTED_MEDIA_TYPE: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  METHOD_NOT_ALLOWED: ErrorCode.METHOD_NOT_ALLOWED,
  TOO_MANY_SUBSCRIPTIONS: ErrorCode.TOO_MANY_SUBSCRIPTIONS,
  CUSTOMER_REQUIRED: ErrorCode.CUSTOMER_REQUIRED,
};

/** Fixed messages for codes whose own message may name internals. */
const PUBLIC_MESSAGE: Partial<Record<ErrorCode, { message: string; retryAfterSeconds?: number }>> = {
  INTERNAL: { message: 'internal error' },
  NOT_OWNER: { message: 'the show is moving between nodes; retry', retryAfterSeconds: 1 },
};

/** Turns anything thrown into the error frame a client sees. */
export function toErrorFrame(err: unknown, requestId?: string, showId?: string): ErrorFrameShape {
  let e = asSeatError(err);
  const fixed = PUBLIC_MESSAGE[e.code];
  if (fixed) {
    const details = fixed.retryAfterSeconds !== undefined ? { retryAfterSeconds: fixed.retryAfterSeconds } : {};
    e = new SeatError(WS_CODE[e.code], fixed.message, details);
  }
  return {
    type: 'error',
    ...(requestId !== undefined ? { requestId } : {}),
    ...(showId !== undefined ? { showId } : {}),
    ...e.toJSON(),
    code: WS_CODE[e.code],
  };
}
