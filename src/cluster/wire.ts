import { ErrorCode, SeatError, seatErrorFromJSON, type ErrorDetails } from '../errors.ts';

/**
 * The gateway → owner protocol on core NATS. One request message carries one or more ops
 * for shows the receiver should own; the reply carries one result per op, in order. JSON,
 * so a capture is readable; the envelope is tiny next to the ops.
 */

/** SeatService methods that run on a show's owner (listShows and watch never cross). */
export const ROUTED_METHODS = [
  'createShow',
  'getShow',
  'getSeatMap',
  'changeShow',
  'cancelShow',
  'blockSeats',
  'unblockSeats',
  'hold',
  'extendHold',
  'confirm',
  'release',
  'getBooking',
  'cancelBookings',
] as const;
export type RoutedMethod = (typeof ROUTED_METHODS)[number];

/** One command: the method's arguments after the show id, without the call context. */
export interface Op {
  showId: string;
  method: RoutedMethod;
  args: unknown[];
  /** The client's key, or one the gateway made up so its own retries cannot double-apply. */
  idempotencyKey?: string;
}

export interface OpRequest {
  ops: Op[];
}

export type ErrorJSON = { code: string; message: string } & ErrorDetails;
export type OpResult = { ok: true; value?: unknown } | { ok: false; error: ErrorJSON };

export interface OpReply {
  results: OpResult[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encode(value: OpRequest | OpReply): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeRequest(data: Uint8Array): OpRequest {
  const v = JSON.parse(decoder.decode(data)) as OpRequest;
  if (!v || !Array.isArray(v.ops)) throw new SeatError(ErrorCode.INVALID_ARGUMENT, 'malformed op request');
  return v;
}

export function decodeReply(data: Uint8Array, expected: number): OpReply {
  const v = JSON.parse(decoder.decode(data)) as OpReply | { error: ErrorJSON };
  if ('error' in v) throw seatErrorFromJSON(v.error);
  if (!Array.isArray(v.results) || v.results.length !== expected)
    throw new SeatError(ErrorCode.INTERNAL, 'malformed op reply');
  return v;
}

export function isRoutedMethod(m: unknown): m is RoutedMethod {
  return typeof m === 'string' && (ROUTED_METHODS as readonly string[]).includes(m);
}

export function errorResult(err: SeatError): OpResult {
  return { ok: false, error: err.toJSON() };
}
