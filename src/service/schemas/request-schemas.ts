import { z } from 'zod';
import { ErrorCode, SeatError } from '../../errors.ts';
import {
  AdminCancelCommand,
  CancelBookingsCommand,
  CustomerCancelCommand,
  bookingListFields,
  CancelShowCommand,
  ChangeShowCommand,
  ConfirmCommand,
  CreateShowCommand,
  EmptyCommand,
  ExtendCommand,
  HoldCommand,
  SeatsCommand,
  issueFields,
} from './command-schemas.ts';
import { DATE_RE, ID_RE, seatLabel, text } from './edge-rules.ts';

/**
 * Every shape the HTTP API accepts. Command bodies are the shared command schemas
 * (../command-schemas.ts) as they are: the WebSocket and gRPC doors wrap the same ones, so a
 * bound changes for all three at once. Bodies are strict (unknown keys, `__proto__` and
 * `constructor` included, are rejected).
 */

export const CreateShowBody = CreateShowCommand;
export const ChangeShowBody = ChangeShowCommand;
export const CancelShowBody = CancelShowCommand;
export const HoldBody = HoldCommand;
export const ConfirmBody = ConfirmCommand;
export const ExtendBody = ExtendCommand;
export const EmptyBody = EmptyCommand;
export const SeatsBody = SeatsCommand;
export const BulkCancelBody = CancelBookingsCommand;
export const AdminCancelBody = AdminCancelCommand;
export const CustomerCancelBody = CustomerCancelCommand;

/** Query of GET /v1/shows/{showId}/bookings (the limit arrives as text); unknown parameters are ignored. */
export const BookingListQueryString = z.object({ ...bookingListFields, limit: z.coerce.number().int().min(1).max(500).optional() });

/** Query of GET /v1/shows; unknown parameters are ignored (cache busters, tracking tags). */
export const CatalogQuery = z.object({
  city: text(100).optional(),
  date: z.string().regex(DATE_RE, 'YYYY-MM-DD').optional(),
  q: text(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
});

/** The seat of GET /v1/shows/{showId}/seats/{seatId}/history (and of its hop). */
export const SeatIdParam = z.strictObject({ seatId: seatLabel });

export const ShowQuery = z.object({ format: z.enum(['full', 'compact']).default('full') });

/** Validates `value` or throws INVALID_ARGUMENT listing each problem by path. */
export function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = issueFields(result.error, 20);
  const first = fields[0];
  const message = first ? `${first.path || 'body'}: ${first.message}` : 'invalid request';
  throw new SeatError(ErrorCode.INVALID_ARGUMENT, message, { fields });
}

/** Checks one id taken from the URL path. */
export function checkId(value: string, what: string): string {
  if (!ID_RE.test(value))
    throw new SeatError(ErrorCode.INVALID_ARGUMENT, `${what} is not a valid id`, {
      fields: [{ path: what, message: 'letters, digits, _ and - only (1-64)' }],
    });
  return value;
}
