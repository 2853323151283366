import { ErrorCode } from '../errors.ts';
import { HTTP_STATUS } from '../gateway/http/error-mapping.ts';
import type { Operation } from '../gateway/http/operation.ts';

const C = ErrorCode;

/**
 * The error codes an operation may answer: those every request may meet, those its kind
 * implies (admin, hold token, a body, a write) and its own (`Operation.errors`), grouped by
 * HTTP status for the description.
 */
export function errorsByStatus(op: Operation): Map<number, ErrorCode[]> {
  const codes = new Set<ErrorCode>([C.INVALID_ARGUMENT, C.INTERNAL, C.UNAVAILABLE]);
  if (op.path.includes('{showId}')) codes.add(C.SHOW_NOT_FOUND);
  if (op.method !== 'GET') codes.add(C.IDEMPOTENCY_MISMATCH).add(C.DEADLINE_EXCEEDED);
  if (op.admin) codes.add(C.UNAUTHENTICATED).add(C.FORBIDDEN).add(C.RATE_LIMITED);
  if (op.holdToken) codes.add(C.UNAUTHENTICATED).add(C.FORBIDDEN).add(C.HOLD_NOT_FOUND).add(C.HOLD_EXPIRED);
  if (op.bookingToken) codes.add(C.FORBIDDEN).add(C.BOOKING_NOT_FOUND);
  if (op.customer) codes.add(C.RATE_LIMITED).add(C.FORBIDDEN);
  if (op.body !== 'none') codes.add(C.PAYLOAD_TOO_LARGE).add(C.UNSUPPORTED_MEDIA_TYPE);
  for (const c of op.errors) codes.add(c);
  const out = new Map<number, ErrorCode[]>();
  for (const c of codes) {
    const status = HTTP_STATUS[c];
    out.set(status, [...(out.get(status) ?? []), c]);
  }
  return new Map([...out.entries()].sort((a, b) => a[0] - b[0]));
}
