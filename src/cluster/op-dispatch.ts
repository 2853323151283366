import { ErrorCode, SeatError } from '../errors.ts';
import { parse } from '../service/schemas/request-schemas.ts';
import type { CallContext, HoldRequest, SeatService } from '../service/seat-service.ts';
import { ID_RE } from '../service/schemas/edge-rules.ts';
import { HOP_REQUEST_SCHEMAS, HopContext } from './hop-schemas.ts';
import { viewToMapWire, type ShowMapWire } from './show-map-wire.ts';
import type { Op, RequestOf, RoutedMethod } from './wire.ts';

/** Reads a show's map on the owner without building the full view (the actor host's read). */
export type MapReader = (showId: string) => Promise<ShowMapWire>;

/**
 * Checks an op that arrived over the wire: its envelope, and its request with the edge's
 * schema for that method. Throws INVALID_ARGUMENT (with the fields) otherwise. Returns the
 * parsed op (strings trimmed, defaults filled, as the edge would have them).
 */
export function checkOp(raw: unknown): Op {
  // The envelope by hand (it is on every op's path); the request with the edge's schema.
  const env = raw as Partial<Op> | null;
  if (typeof env !== 'object' || env === null) throw new SeatError(ErrorCode.INVALID_ARGUMENT, 'malformed op');
  if (!Number.isInteger(env.id) || (env.id as number) < 0) throw new SeatError(ErrorCode.INVALID_ARGUMENT, 'op id: a non-negative integer');
  if (typeof env.showId !== 'string' || !ID_RE.test(env.showId))
    throw new SeatError(ErrorCode.INVALID_ARGUMENT, 'showId is not a valid id');
  if (typeof env.method !== 'string' || !Object.hasOwn(HOP_REQUEST_SCHEMAS, env.method))
    throw new SeatError(ErrorCode.INVALID_ARGUMENT, `unknown method ${String(env.method).slice(0, 64)}`);
  if (env.budgetMs !== undefined && (typeof env.budgetMs !== 'number' || !(env.budgetMs >= 0)))
    throw new SeatError(ErrorCode.INVALID_ARGUMENT, 'budgetMs: a number of milliseconds');
  const ctx = env.ctx === undefined ? undefined : parse(HopContext, env.ctx);
  const req = parse(HOP_REQUEST_SCHEMAS[env.method], env.req ?? {});
  if (env.method === 'createShow' && (req as RequestOf<'createShow'>).input.id !== env.showId)
    throw new SeatError(ErrorCode.INVALID_ARGUMENT, 'the show id of the op and of the definition differ');
  return {
    id: env.id,
    showId: env.showId,
    method: env.method,
    req,
    ...(ctx ? { ctx } : {}),
    ...(env.budgetMs !== undefined ? { budgetMs: env.budgetMs } : {}),
  } as Op;
}

/**
 * Runs one checked op on a (local) SeatService. Pure dispatch: no ownership checks here.
 * Maps leave in the compact wire form. `deadlineAt` (performance.now() time) is when the
 * caller stops waiting; ops past it are refused before they run.
 */
export async function runOp(service: SeatService, readMap: MapReader, op: Op, deadlineAt?: number): Promise<unknown> {
  if (deadlineAt !== undefined && performance.now() >= deadlineAt)
    throw new SeatError(ErrorCode.DEADLINE_EXCEEDED, 'the caller stopped waiting before the op ran');
  // Hook: once the actor host's execute takes a deadline, pass `deadlineAt` along here so an
  // op still queued in a show's mailbox is dropped there too.
  const ctx: CallContext = op.ctx ?? {};
  const showId = op.showId;
  switch (op.method) {
    case 'createShow':
      return viewToMapWire(await service.createShow(op.req.input, ctx));
    case 'readMap':
      return readMap(showId);
    case 'changeShow':
      return viewToMapWire(await service.changeShow(showId, op.req.changes, ctx));
    case 'cancelShow':
      return service.cancelShow(showId, op.req.reason, ctx);
    case 'blockSeats':
      return service.blockSeats(showId, op.req.seats, ctx);
    case 'unblockSeats':
      return service.unblockSeats(showId, op.req.seats, ctx);
    case 'hold':
      return service.hold(showId, op.req as HoldRequest, ctx);
    case 'extendHold':
      return service.extendHold(showId, op.req.holdId, op.req.holdToken, op.req.ttlSeconds, ctx);
    case 'confirm':
      return service.confirm(
        showId,
        op.req.holdId,
        op.req.holdToken,
        { paymentRef: op.req.paymentRef, expectedTotal: op.req.expectedTotal },
        ctx,
      );
    case 'release':
      return service.release(showId, op.req.holdId, op.req.holdToken, ctx);
    case 'getBooking':
      return service.getBooking(showId, op.req.bookingId, op.req.bookingToken);
    case 'cancelBookings':
      return service.cancelBookings(showId, op.req.bookingIds, ctx, { refundPercent: op.req.refundPercent });
    case 'cancelOwnBooking':
      return service.cancelOwnBooking(showId, op.req.bookingId, op.req.bookingToken, ctx);
    case 'listBookings':
      return service.listBookings(showId, op.req);
    case 'getReport':
      return service.getReport(showId);
    case 'getSeatHistory':
      return service.getSeatHistory(showId, op.req.seatId);
    default: {
      const _: never = op;
      throw new SeatError(ErrorCode.INVALID_ARGUMENT, `unknown method ${String((_ as { method: RoutedMethod }).method)}`);
    }
  }
}
