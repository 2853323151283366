import { z } from 'zod';
import { BookingListQuery, CustomerCancelCommand, bookingToken, holdToken } from '../service/schemas/command-schemas.ts';
import { id } from '../service/schemas/edge-rules.ts';
import {
  BulkCancelBody,
  CancelShowBody,
  ChangeShowBody,
  ConfirmBody,
  CreateShowBody,
  EmptyBody,
  ExtendBody,
  HoldBody,
  SeatIdParam,
  SeatsBody,
} from '../service/schemas/request-schemas.ts';
import type { RoutedMethod } from './wire.ts';

/**
 * The worker checks every op again with the edge's own schemas: a gateway of another
 * version, a bug in a door, or anyone able to publish on the cluster's subjects cannot get
 * past the bounds the front doors promise. The hold fields the HTTP edge takes from the URL
 * and headers use the same shared rules.
 */

const holdRef = { holdId: id, holdToken };

export const HOP_REQUEST_SCHEMAS: Readonly<Record<RoutedMethod, z.ZodType>> = {
  createShow: z.strictObject({ input: CreateShowBody }),
  readMap: EmptyBody,
  changeShow: z.strictObject({ changes: ChangeShowBody }),
  cancelShow: CancelShowBody,
  blockSeats: SeatsBody,
  unblockSeats: SeatsBody,
  hold: HoldBody,
  extendHold: ExtendBody.extend(holdRef),
  confirm: ConfirmBody.extend(holdRef),
  release: EmptyBody.extend(holdRef),
  getBooking: z.strictObject({ bookingId: id, bookingToken: bookingToken.optional() }),
  cancelBookings: BulkCancelBody,
  getReport: EmptyBody,
  getSeatHistory: SeatIdParam,
  cancelOwnBooking: CustomerCancelCommand.extend({ bookingId: id, bookingToken }),
  listBookings: BookingListQuery,
};

/** Longest keep a hop may ask the show for one key: a week, far past any hold. */
export const IDEMPOTENCY_KEEP_SECONDS_MAX = 7 * 24 * 3600;

/**
 * The CallContext as it crosses: the idempotency key, how long to keep it, and the caller,
 * bounded. Fields a newer front door adds pass through as bounded scalars, so the whole
 * context arrives.
 */
export const HopContext = z
  .object({
    idempotencyKey: z.string().min(1).max(1024).optional(),
    caller: z.string().max(1024).optional(),
    idempotencyKeepSeconds: z.number().int().min(1).max(IDEMPOTENCY_KEEP_SECONDS_MAX).optional(),
  })
  .catchall(z.union([z.string().max(1024), z.number(), z.boolean()]));
