import type { handleUnaryCall, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { isIP } from 'node:net';
import { ErrorCode, SeatError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { CallContext, SeatService } from '../../service/seat-service.ts';
import type { AdminAuth } from '../../admin-auth.ts';
import { ADMIN_CALLER, type EdgeIdentity } from '../caller.ts';
import { clientAddress } from '../client-address.ts';
import type { EdgeLimiter } from '../limits/index.ts';
import type { Metadata } from '@grpc/grpc-js';
import {
  bookingMessage,
  bookingPageMessage,
  holdMessage,
  reportMessage,
  seatHistoryMessage,
  seatMapMessage,
  showMessage,
  summaryMessage,
} from './messages.ts';
import { toGrpcError } from './status-map.ts';
import * as schema from './validation.ts';

export interface HandlerDeps {
  service: SeatService;
  auth: AdminAuth;
  logger: Logger;
  identity: EdgeIdentity;
  limiter: EdgeLimiter;
  /** Peers whose `x-forwarded-for` metadata names the client. */
  trustedProxies: readonly string[];
}

/**
 * The client address of a call: the peer (grpc-js gives `host:port`, IPv6 without brackets),
 * or the `x-forwarded-for` metadata when the peer is a trusted proxy.
 */
export function callAddress(call: { getPeer(): string; metadata: Metadata }, trustedProxies: readonly string[]): string {
  const peer = call.getPeer();
  const host = peer.replace(/:\d+$/, '');
  const forwarded = trustedProxies.length > 0 ? call.metadata.get('x-forwarded-for').filter((v): v is string => typeof v === 'string') : [];
  return clientAddress(isIP(host) !== 0 ? host : peer, forwarded.length > 0 ? forwarded : undefined, trustedProxies);
}

type UnaryCall = ServerUnaryCall<unknown, object>;

const adminCtx = (idempotencyKey: string | undefined): CallContext => ({
  caller: ADMIN_CALLER,
  ...(idempotencyKey ? { idempotencyKey } : {}),
});

/** grpc-js peers read `<address>:<port>` (IPv6 unbracketed, `::1:5000`): the address alone. */
export function peerAddress(peer: string): string {
  // Strip the port first: `::1:5000` is itself a valid IPv6 address.
  const m = /^(.*):\d+$/.exec(peer);
  const address = m ? (m[1] as string).replace(/^\[(.*)\]$/, '$1') : '';
  return isIP(address) !== 0 ? address : peer;
}

function metadataString(metadata: Metadata, key: string): string | undefined {
  const values = metadata.get(key);
  return values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
}

/** The caller of a non-admin call, established as at every door (see ../caller.ts). */
function callerCtx(deps: HandlerDeps, call: UnaryCall, idempotencyKey: string | undefined, customerId?: string): CallContext {
  const forwarded = call.metadata.get('x-forwarded-for').filter((v): v is string => typeof v === 'string');
  return deps.identity.context(
    {
      peer: peerAddress(call.getPeer()),
      forwardedFor: forwarded.length ? forwarded : undefined,
      customerId,
      customerToken: metadataString(call.metadata, 'customer-token'),
    },
    idempotencyKey,
  );
}

/** True once the caller's deadline has passed: work for it would be thrown away. */
export function deadlinePassed(call: { getDeadline(): Date | number }): boolean {
  const d = call.getDeadline();
  const at = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(at) && at <= Date.now();
}

/** Logs a failed call: the unexpected ones loudly (with their cause), the rest at debug. */
export function logFailure(logger: Logger, method: string, err: unknown): ReturnType<typeof toGrpcError> {
  const mapped = toGrpcError(err);
  const { seatError } = mapped;
  if (seatError.code === ErrorCode.INTERNAL) logger.error({ method, err: seatError.cause ?? seatError }, 'grpc call failed');
  else logger.debug({ method, code: seatError.code }, 'grpc call refused');
  return mapped;
}

/**
 * Wraps one unary method: admin check, deadline check, the work, the error mapping. A call
 * the client has given up on (deadline passed, cancelled) starts no work and gets no reply;
 * grpc-js has already answered it DEADLINE_EXCEEDED or CANCELLED.
 */
function unary(deps: HandlerDeps, method: string, run: (request: unknown, call: UnaryCall) => Promise<object>, admin = false) {
  const handler: handleUnaryCall<unknown, object> = (call, callback) => {
    void (async () => {
      try {
        if (call.cancelled) return;
        if (deadlinePassed(call)) throw new SeatError(ErrorCode.DEADLINE_EXCEEDED, 'the deadline passed before the call started');
        if (admin) await deps.limiter.admin(callAddress(call, deps.trustedProxies), () => deps.auth.check(authorizationOf(call.metadata)));
        const reply = await run(call.request, call);
        if (!call.cancelled) callback(null, reply);
      } catch (err) {
        const { code, details, metadata } = logFailure(deps.logger, method, err);
        if (!call.cancelled) callback({ code, details, metadata });
      }
    })();
  };
  return handler;
}

/** The unary methods of seats.v1.SeatInventory. WatchShow lives in watch-show.ts. */
export function unaryHandlers(deps: HandlerDeps): UntypedServiceImplementation {
  const { service } = deps;
  return {
    CreateShow: unary(
      deps,
      'CreateShow',
      async (r) => {
        const { input, idempotencyKey } = schema.parse(schema.CreateShowRequest, r);
        return showMessage(await service.createShow(input, adminCtx(idempotencyKey)));
      },
      true,
    ),
    GetShow: unary(deps, 'GetShow', async (r) => {
      const q = schema.parse(schema.GetShowRequest, r);
      if (!q.compact) return showMessage(await service.getShow(q.show_id));
      const [show, map] = await Promise.all([service.getShow(q.show_id), service.getSeatMap(q.show_id)]);
      return { ...showMessage(show), seats: [], seat_map: seatMapMessage(map) };
    }),
    ListShows: unary(deps, 'ListShows', async (r) => ({
      shows: (await service.listShows(schema.parse(schema.ListShowsRequest, r))).map(summaryMessage),
    })),
    Hold: unary(deps, 'Hold', async (r, call) => {
      const { showId, req, idempotencyKey } = schema.parse(schema.HoldRequestSchema, r);
      await deps.limiter.hold('grpc', callAddress(call, deps.trustedProxies), req.customerId);
      return holdMessage(await service.hold(showId, req, callerCtx(deps, call, idempotencyKey, req.customerId)));
    }),
    Confirm: unary(deps, 'Confirm', async (r, call) => {
      const q = schema.parse(schema.ConfirmRequest, r);
      return bookingMessage(
        await service.confirm(
          q.show_id,
          q.hold_id,
          q.hold_token,
          { paymentRef: q.payment_ref, expectedTotal: q.expected_total },
          callerCtx(deps, call, q.idempotency_key),
        ),
      );
    }),
    Release: unary(deps, 'Release', async (r, call) => {
      const q = schema.parse(schema.ReleaseRequest, r);
      await service.release(q.show_id, q.hold_id, q.hold_token, callerCtx(deps, call, q.idempotency_key));
      return {};
    }),
    ExtendHold: unary(deps, 'ExtendHold', async (r, call) => {
      const q = schema.parse(schema.ExtendHoldRequest, r);
      const e = await service.extendHold(q.show_id, q.hold_id, q.hold_token, q.ttl_seconds, callerCtx(deps, call, q.idempotency_key));
      return { hold_id: e.holdId, expires_at: e.expiresAt };
    }),
    GetBooking: unary(deps, 'GetBooking', async (r) => {
      const q = schema.parse(schema.GetBookingRequest, r);
      return bookingMessage(await service.getBooking(q.show_id, q.booking_id, q.booking_token));
    }),
    CancelBooking: unary(
      deps,
      'CancelBooking',
      async (r) => {
        const q = schema.parse(schema.CancelBookingRequest, r);
        const [booking] = await service.cancelBookings(q.show_id, [q.booking_id], adminCtx(q.idempotency_key), {
          refundPercent: q.refund_percent,
        });
        if (!booking) throw new SeatError(ErrorCode.BOOKING_NOT_FOUND, 'no such booking');
        return bookingMessage(booking);
      },
      true,
    ),
    CancelShow: unary(
      deps,
      'CancelShow',
      async (r) => {
        const q = schema.parse(schema.CancelShowRequest, r);
        const res = await service.cancelShow(q.show_id, q.reason, adminCtx(q.idempotency_key));
        return { refunds: res.refunds.map(bookingMessage), released_holds: res.releasedHolds };
      },
      true,
    ),
    GetReport: unary(
      deps,
      'GetReport',
      async (r) => reportMessage(await service.getReport(schema.parse(schema.GetReportRequest, r).show_id)),
      true,
    ),
    GetSeatHistory: unary(
      deps,
      'GetSeatHistory',
      async (r) => {
        const q = schema.parse(schema.GetSeatHistoryRequest, r);
        return seatHistoryMessage(await service.getSeatHistory(q.show_id, q.seat_id));
      },
      true,
    ),
    CancelMyBooking: unary(deps, 'CancelMyBooking', async (r, call) => {
      const q = schema.parse(schema.CancelMyBookingRequest, r);
      return bookingMessage(
        await service.cancelOwnBooking(q.show_id, q.booking_id, q.booking_token, callerCtx(deps, call, q.idempotency_key)),
      );
    }),
    ListBookings: unary(
      deps,
      'ListBookings',
      async (r) => {
        const { showId, ...req } = schema.parse(schema.ListBookingsRequest, r);
        return bookingPageMessage(await service.listBookings(showId, req));
      },
      true,
    ),
  };
}

/** The single `authorization` metadata value; several or a binary one count as none. */
function authorizationOf(metadata: Metadata): string | undefined {
  return metadataString(metadata, 'authorization');
}
