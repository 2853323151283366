import type { ShowChanges } from '../actors/types.ts';
import { ErrorCode, SeatError } from '../errors.ts';
import type { CallContext, CreateShowInput, HoldRequest, SeatService } from '../service/seat-service.ts';
import type { Op } from './wire.ts';

// JSON turns `undefined` arguments into null; the service wants them absent.
const opt = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (v as T));
const str = (v: unknown): string => {
  if (typeof v !== 'string') throw new SeatError(ErrorCode.INVALID_ARGUMENT, 'malformed op argument');
  return v;
};

/** Runs one op on a (local) SeatService. Pure dispatch: no ownership checks here. */
export function runOp(service: SeatService, op: Op): Promise<unknown> {
  const ctx: CallContext = op.idempotencyKey ? { idempotencyKey: op.idempotencyKey } : {};
  const a = op.args;
  const showId = op.showId;
  switch (op.method) {
    case 'createShow':
      return service.createShow(a[0] as CreateShowInput, ctx);
    case 'getShow':
      return service.getShow(showId);
    case 'getSeatMap':
      return service.getSeatMap(showId);
    case 'changeShow':
      return service.changeShow(showId, a[0] as ShowChanges, ctx);
    case 'cancelShow':
      return service.cancelShow(showId, opt<string>(a[0]), ctx);
    case 'blockSeats':
      return service.blockSeats(showId, a[0] as string[], ctx);
    case 'unblockSeats':
      return service.unblockSeats(showId, a[0] as string[], ctx);
    case 'hold':
      return service.hold(showId, a[0] as HoldRequest, ctx);
    case 'extendHold':
      return service.extendHold(showId, str(a[0]), str(a[1]), opt<number>(a[2]), ctx);
    case 'confirm':
      return service.confirm(showId, str(a[0]), str(a[1]), opt<string>(a[2]), ctx);
    case 'release':
      return service.release(showId, str(a[0]), str(a[1]), ctx);
    case 'getBooking':
      return service.getBooking(showId, str(a[0]));
    case 'cancelBookings':
      return service.cancelBookings(showId, a[0] as string[], ctx);
    default: {
      const _: never = op.method;
      throw new SeatError(ErrorCode.INVALID_ARGUMENT, `unknown method ${String(_)}`);
    }
  }
}
