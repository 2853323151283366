/**
 * The one error catalogue. Every failure a client can see carries one of these stable
 * codes; the mapping to HTTP, gRPC and WebSocket lives once per protocol in the gateway.
 */
export const ErrorCode = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  SHOW_NOT_FOUND: 'SHOW_NOT_FOUND',
  HOLD_NOT_FOUND: 'HOLD_NOT_FOUND',
  BOOKING_NOT_FOUND: 'BOOKING_NOT_FOUND',
  NOT_FOUND: 'NOT_FOUND',
  SHOW_EXISTS: 'SHOW_EXISTS',
  SEAT_UNAVAILABLE: 'SEAT_UNAVAILABLE',
  SHOW_CANCELLED: 'SHOW_CANCELLED',
  HOLD_LIMIT_EXCEEDED: 'HOLD_LIMIT_EXCEEDED',
  IDEMPOTENCY_MISMATCH: 'IDEMPOTENCY_MISMATCH',
  HOLD_ALREADY_CONFIRMED: 'HOLD_ALREADY_CONFIRMED',
  HOLD_EXPIRED: 'HOLD_EXPIRED',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  NOT_OWNER: 'NOT_OWNER',
  UNAVAILABLE: 'UNAVAILABLE',
  DEADLINE_EXCEEDED: 'DEADLINE_EXCEEDED',
  INTERNAL: 'INTERNAL',
  /** A request body that is not JSON (HTTP 415). */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  /** A known path called with a method it does not serve (HTTP 405). */
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  /** More show subscriptions than allowed: per WebSocket, or gRPC WatchShow streams per client address. */
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  /** A hold without customerId on a show that caps seats per customer (HTTP 400). */
  CUSTOMER_REQUIRED: 'CUSTOMER_REQUIRED',
  /** A confirm's expectedTotal differs from the hold's locked quote (HTTP 409); nothing is booked. */
  PRICE_CHANGED: 'PRICE_CHANGED',
  /** A customer's cancel when no rule of the show's cancellation policy applies any more (HTTP 409); nothing changes. */
  CANCELLATION_CLOSED: 'CANCELLATION_CLOSED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes a caller may retry unchanged (the same idempotency key gives the same answer). */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.NOT_OWNER,
  ErrorCode.UNAVAILABLE,
  ErrorCode.DEADLINE_EXCEEDED,
  ErrorCode.RATE_LIMITED,
]);

export interface ErrorDetails {
  /** Seats the error is about (for SEAT_UNAVAILABLE: every seat that was taken). */
  seats?: string[];
  /** Field-level problems for INVALID_ARGUMENT. */
  fields?: Array<{ path: string; message: string }>;
  /** Seconds until a retry may succeed (RATE_LIMITED, UNAVAILABLE). */
  retryAfterSeconds?: number;
  /** For PRICE_CHANGED: the hold's locked total and its currency. */
  total?: number;
  currency?: string;
}

export class SeatError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SeatError';
    this.code = code;
    this.details = details;
    this.retryable = RETRYABLE.has(code);
  }

  /** The JSON body every protocol sends for an error. */
  toJSON(): { code: ErrorCode; message: string } & ErrorDetails {
    return { code: this.code, message: this.message, ...this.details };
  }
}

/** Wraps anything thrown into a SeatError; unknown failures become INTERNAL, keeping the cause. */
export function asSeatError(err: unknown): SeatError {
  if (err instanceof SeatError) return err;
  return new SeatError(ErrorCode.INTERNAL, 'internal error', {}, { cause: err });
}

/** Rebuilds a SeatError from its JSON form (errors crossing a process boundary). */
export function seatErrorFromJSON(json: { code: string; message: string } & ErrorDetails): SeatError {
  const { code, message, ...details } = json;
  const known = (Object.values(ErrorCode) as string[]).includes(code) ? (code as ErrorCode) : ErrorCode.INTERNAL;
  return new SeatError(known, message, details);
}

export function isSeatErrorCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof SeatError && err.code === code;
}
