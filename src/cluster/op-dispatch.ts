import type { ShowChanges } from '../actors/types.ts';
import { ErrorCode, SeatError } from '../errors.ts';
import { parse } from '../gateway/http/schemas.ts';
import type { CallContext, CreateShowInput, HoldRequest, SeatService } from '../service/seat-service.ts';
import { HOP_REQUEST_SCHEMAS, HopEnvelope } from './hop-schemas.ts';
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
  const env = parse(HopEnvelope, raw);
  const req = parse(HOP_REQUEST_SCHEMAS[env.method], env.req ?? {});
  if (env.method === 'createShow' && (req as RequestOf<'createShow'>).input.id !== env.showId)
    throw new SeatError(ErrorCode.INVALID_ARGUMENT, 'the show id of the op and of the definition differ');
  return { ...env, req } as Op;
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
      return viewToMapWire(await service.createShow(op.req.input as CreateShowInput, ctx));
    case 'readMap':
      return readMap(showId);
    case 'changeShow':
      return viewToMapWire(await service.changeShow(showId, op.req.changes as ShowChanges, ctx));
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
      return service.confirm(showId, op.req.holdId, op.req.holdToken, op.req.paymentRef, ctx);
    case 'release':
      return service.release(showId, op.req.holdId, op.req.holdToken, ctx);
    case 'getBooking':
      return service.getBooking(showId, op.req.bookingId);
    case 'cancelBookings':
      return service.cancelBookings(showId, op.req.bookingIds, ctx);
    default: {
      const _: never = op;
      throw new SeatError(ErrorCode.INVALID_ARGUMENT, `unknown method ${String((_ as { method: RoutedMethod }).method)}`);
    }
  }
}
