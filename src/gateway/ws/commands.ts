import type { CallContext, SeatService } from '../../service/seat-service.ts';
import type { CommandFrame } from './protocol.ts';

/**
 * Runs one WebSocket command against the seat service and returns the reply fields of its
 * `result` frame (the same fields the HTTP API answers with). Throws SeatError.
 */
export async function runCommand(
  service: SeatService,
  f: CommandFrame,
  contextOf: (customerId: string | undefined, customerToken: string | undefined) => CallContext,
): Promise<object> {
  const ctx = f.type === 'hold' ? contextOf(f.customerId, f.customerToken) : contextOf(undefined, undefined);
  switch (f.type) {
    case 'hold': {
      const { seats, count, category, ttlSeconds, customerId } = f;
      return service.hold(f.showId, { seats, count, category, ttlSeconds, customerId }, ctx);
    }
    case 'extend':
      return service.extendHold(f.showId, f.holdId, f.holdToken, f.ttlSeconds, ctx);
    case 'confirm':
      return service.confirm(f.showId, f.holdId, f.holdToken, { paymentRef: f.paymentRef, expectedTotal: f.expectedTotal }, ctx);
    case 'release':
      await service.release(f.showId, f.holdId, f.holdToken, ctx);
      return { holdId: f.holdId, released: true };
    default: {
      const unreachable: never = f;
      throw new Error(`unknown command ${(unreachable as CommandFrame).type}`);
    }
  }
}
