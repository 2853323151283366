import type { ShowReport } from '../actors/report.ts';
import type { SeatHistory } from '../actors/seat-history.ts';
import type { BookingView, ShowChanges } from '../actors/types.ts';
import { ErrorCode, SeatError, type ErrorDetails } from '../errors.ts';
import type {
  BookingGranted,
  BookingListRequest,
  BookingPage,
  CallContext,
  CreateShowInput,
  HoldGranted,
  HoldRequest,
} from '../service/seat-service.ts';
import type { ShowMapWire } from './show-map-wire.ts';

/**
 * The gateway → owner protocol on core NATS, as types. One request message carries one or
 * more ops (one typed request object per method); each op's result travels back on its own
 * as soon as it is done, so a slow or huge op delays nobody packed beside it. JSON, so a
 * capture is readable. How messages are framed and chunked: hop-frames.ts.
 */

/** What each routed method takes and answers. Maps cross in the compact ShowMapWire form. */
export interface HopMethods {
  createShow: { req: { input: CreateShowInput }; res: ShowMapWire };
  /** The show and every seat's status, compact; the gateway expands it (full view or seat map). */
  readMap: { req: Record<string, never>; res: ShowMapWire };
  changeShow: { req: { changes: ShowChanges }; res: ShowMapWire };
  cancelShow: { req: { reason?: string | undefined }; res: { refunds: BookingView[]; releasedHolds: string[] } };
  blockSeats: { req: { seats: string[] }; res: undefined };
  unblockSeats: { req: { seats: string[] }; res: undefined };
  hold: { req: HoldRequest; res: HoldGranted };
  extendHold: { req: { holdId: string; holdToken: string; ttlSeconds?: number | undefined }; res: { holdId: string; expiresAt: string } };
  confirm: {
    req: { holdId: string; holdToken: string; paymentRef?: string | undefined; expectedTotal?: number | undefined };
    res: BookingGranted;
  };
  release: { req: { holdId: string; holdToken: string }; res: undefined };
  getBooking: { req: { bookingId: string; bookingToken?: string }; res: BookingView };
  cancelBookings: { req: { bookingIds: string[]; refundPercent?: number }; res: BookingView[] };
  getReport: { req: Record<string, never>; res: ShowReport };
  /** Reads the show's log on the owner: may take a while for a long log (heavy). */
  getSeatHistory: { req: { seatId: string }; res: SeatHistory };
  /** The customer's cancel; the owner checks the booking token (it holds the secret). */
  cancelOwnBooking: { req: { bookingId: string; bookingToken: string }; res: BookingView };
  /** The admin's list, merged on the owner from the show's memory and the archive. */
  listBookings: { req: BookingListRequest; res: BookingPage };
}

export type RoutedMethod = keyof HopMethods;
export type RequestOf<M extends RoutedMethod> = HopMethods[M]['req'];
export type ResultOf<M extends RoutedMethod> = HopMethods[M]['res'];

/** Methods whose answer or work can be large or slow (big maps, show-wide commands). */
export const HEAVY_METHODS: ReadonlySet<RoutedMethod> = new Set([
  'createShow',
  'readMap',
  'changeShow',
  'cancelShow',
  'cancelBookings',
  'getSeatHistory',
]);

/** One command for a show, as it crosses the hop. */
export type Op = {
  [M in RoutedMethod]: {
    /** Unique among the sender's ops in flight; the result comes back under it. */
    id: number;
    showId: string;
    method: M;
    req: RequestOf<M>;
    /** The whole call context of the front door (idempotency key, caller). */
    ctx?: CallContext;
    /** Milliseconds the caller still waits; past it the worker drops the op unrun. */
    budgetMs?: number;
  };
}[RoutedMethod];

/** A request message: where results go, and the ops. */
export interface OpRequest {
  /** The gateway's result inbox (a plain subject; results are not NATS replies to this message). */
  inbox: string;
  ops: Op[];
}

/** The immediate answer to a request message: it arrived and this many ops were taken. */
export type OpAck = { accepted: number } | { error: ErrorJSON };

export type ErrorJSON = { code: string; message: string } & ErrorDetails;
export type OpResult = { ok: true; value?: unknown } | { ok: false; error: ErrorJSON };

/** A result message: one or more results, each under its op's id. */
export interface OpResults {
  results: Array<{ id: number } & OpResult>;
}

export function errorResult(err: SeatError): OpResult {
  return { ok: false, error: err.toJSON() };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJSON(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeJSON<T>(data: Uint8Array, what: string): T {
  try {
    return JSON.parse(decoder.decode(data)) as T;
  } catch (err) {
    throw new SeatError(ErrorCode.INVALID_ARGUMENT, `malformed ${what}`, {}, { cause: err });
  }
}

export function decodeRequest(data: Uint8Array): OpRequest {
  const v = decodeJSON<OpRequest>(data, 'op request');
  if (!v || typeof v.inbox !== 'string' || v.inbox === '' || !Array.isArray(v.ops))
    throw new SeatError(ErrorCode.INVALID_ARGUMENT, 'malformed op request');
  return v;
}

export function decodeResults(data: Uint8Array): OpResults['results'] {
  const v = decodeJSON<OpResults>(data, 'op results');
  if (!v || !Array.isArray(v.results)) throw new SeatError(ErrorCode.INTERNAL, 'malformed op results');
  return v.results;
}
