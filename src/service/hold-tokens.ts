import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Hold tokens are HMACs of (show, hold) under a secret every node shares. Nothing secret is
 * stored in the log, and a retried hold can be answered with the same token again. Booking
 * tokens (the customer's proof for their own booking) are derived the same way under a
 * purpose string of their own, so a hold's token never passes for a booking's and no state is
 * kept for either.
 *
 * An HMAC is computed only where a token is handed out (hold, confirm) or checked (extend,
 * confirm, release, a customer's booking calls); nothing else per request needs one.
 */
export class HoldTokens {
  private readonly secret: Buffer;

  constructor(secret: string | Buffer) {
    this.secret = Buffer.isBuffer(secret) ? secret : Buffer.from(secret);
    if (this.secret.length < 16) throw new Error('hold token secret must be at least 16 bytes');
  }

  issue(showId: string, holdId: string): string {
    return createHmac('sha256', this.secret).update(`${showId}\n${holdId}`).digest('base64url');
  }

  verify(showId: string, holdId: string, token: string): boolean {
    // A token of the wrong length is no token: refused without computing the HMAC.
    return token.length === TOKEN_CHARS && sameToken(this.issue(showId, holdId), token);
  }

  /** The Booking-Token of a booking: what lets its customer read and cancel it. */
  issueBooking(showId: string, bookingId: string): string {
    // Three lines against the hold token's two (ids have no newlines): the inputs never coincide.
    return createHmac('sha256', this.secret).update(`${BOOKING_PURPOSE}\n${showId}\n${bookingId}`).digest('base64url');
  }

  verifyBooking(showId: string, bookingId: string, token: string): boolean {
    return token.length === TOKEN_CHARS && sameToken(this.issueBooking(showId, bookingId), token);
  }
}

const BOOKING_PURPOSE = 'booking';
/** Every token is a SHA-256 HMAC (32 bytes) in unpadded base64url. */
const TOKEN_CHARS = 43;

/** Constant-time comparison (for tokens of equal length; the length itself is not secret). */
function sameToken(expectedToken: string, token: string): boolean {
  const expected = Buffer.from(expectedToken);
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
