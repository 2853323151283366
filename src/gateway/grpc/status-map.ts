import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { asSeatError, ErrorCode, type SeatError } from '../../errors.ts';

/**
 * The one mapping from the error catalogue to gRPC status codes. The stable code always
 * travels in the trailing metadata `error-code`; clients branch on that, the status code
 * only tells generic gRPC tooling (retry policies, dashboards) what kind of failure it was.
 *
 * Choices where gRPC offers several:
 * - SHOW_EXISTS is ALREADY_EXISTS: the thing a create names is there already.
 * - SEAT_UNAVAILABLE, HOLD_ALREADY_CONFIRMED, PRICE_CHANGED, HOLD_LIMIT_EXCEEDED, IDEMPOTENCY_MISMATCH,
 *   SHOW_CANCELLED and HOLD_EXPIRED are FAILED_PRECONDITION: the request is well formed but
 *   the show is not in a state that allows it, and retrying it unchanged will not help.
 * - FORBIDDEN is PERMISSION_DENIED (wrong hold token, wrong admin token); a missing admin
 *   token is UNAUTHENTICATED, as over HTTP.
 * - NOT_OWNER and UNAVAILABLE are UNAVAILABLE, the code gRPC clients retry.
 */
export const GRPC_STATUS: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  FORBIDDEN: status.PERMISSION_DENIED,
  SHOW_NOT_FOUND: status.NOT_FOUND,
  HOLD_NOT_FOUND: status.NOT_FOUND,
  BOOKING_NOT_FOUND: status.NOT_FOUND,
  NOT_FOUND: status.NOT_FOUND,
  SHOW_EXISTS: status.ALREADY_EXISTS,
  SEAT_UNAVAILABLE: status.FAILED_PRECONDITION,
  SHOW_CANCELLED: status.FAILED_PRECONDITION,
  HOLD_LIMIT_EXCEEDED: status.FAILED_PRECONDITION,
  IDEMPOTENCY_MISMATCH: status.FAILED_PRECONDITION,
  HOLD_ALREADY_CONFIRMED: status.FAILED_PRECONDITION,
  PRICE_CHANGED: status.FAILED_PRECONDITION,
  CANCELLATION_CLOSED: status.FAILED_PRECONDITION,
  HOLD_EXPIRED: status.FAILED_PRECONDITION,
  PAYLOAD_TOO_LARGE: status.RESOURCE_EXHAUSTED,
  RATE_LIMITED: status.RESOURCE_EXHAUSTED,
  NOT_OWNER: status.UNAVAILABLE,
  UNAVAILABLE: status.UNAVAILABLE,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  INTERNAL: status.INTERNAL,
  // HTTP-only codes; never raised by the gRPC edge, mapped for completeness.
  UNSUPPORTED_MEDIA_TYPE: status.INVALID_ARGUMENT,
  METHOD_NOT_ALLOWED: status.UNIMPLEMENTED,
  // A client over its share of WatchShow streams.
  TOO_MANY_SUBSCRIPTIONS: status.RESOURCE_EXHAUSTED,
  // The show caps seats per customer and the hold named none: a field the request lacks.
  CUSTOMER_REQUIRED: status.INVALID_ARGUMENT,
};

/** Trailing metadata keys of an error, defined once. */
export const ERROR_METADATA = {
  code: 'error-code',
  seats: 'error-seats',
  fields: 'error-fields',
  retryAfter: 'retry-after',
} as const;

/** Metadata values stay far below grpc-js's 8 KiB header limit whatever the error lists. */
const MAX_LISTED = 100;

export interface GrpcError extends Partial<StatusObject> {
  code: status;
  details: string;
  metadata: Metadata;
}

/** Turns anything thrown into a status with the stable code in trailing metadata. */
export function toGrpcError(err: unknown): GrpcError & { seatError: SeatError } {
  const e = asSeatError(err);
  const metadata = new Metadata();
  metadata.set(ERROR_METADATA.code, e.code);
  const { seats, fields, retryAfterSeconds } = e.details;
  // Seat labels and field paths are validated ASCII without commas, so a comma list is safe.
  if (seats?.length) metadata.set(ERROR_METADATA.seats, seats.slice(0, MAX_LISTED).join(','));
  if (fields?.length)
    metadata.set(
      ERROR_METADATA.fields,
      fields
        .slice(0, MAX_LISTED)
        .map((f) => f.path)
        .join(','),
    );
  if (retryAfterSeconds !== undefined) metadata.set(ERROR_METADATA.retryAfter, String(retryAfterSeconds));
  // INTERNAL hides its cause from the client; the server logs it.
  const details = e.code === ErrorCode.INTERNAL ? 'internal error' : e.message;
  return { code: GRPC_STATUS[e.code], details, metadata, seatError: e };
}
