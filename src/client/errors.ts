import type { ErrorCode, ErrorDetails } from '../errors.ts';

/**
 * An error the server answered, with its stable code (README, "Errors"): branch on `code`,
 * never on the message. `status` is the HTTP status (0 when the server was not reached).
 */
export class SeatClientError extends Error {
  readonly code: ErrorCode | 'NETWORK';
  readonly status: number;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode | 'NETWORK', message: string, status: number, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SeatClientError';
    this.code = code;
    this.status = status;
    this.details = details;
  }

  /** Whether sending the same request again (same idempotency key) may succeed. */
  get retryable(): boolean {
    return this.code === 'NETWORK' || this.code === 'UNAVAILABLE' || this.code === 'DEADLINE_EXCEEDED' || this.code === 'RATE_LIMITED';
  }
}
