import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode, SeatError } from '../errors.ts';

/** A customer token is `<expUnixSeconds>.<base64url HMAC-SHA256(secret, "<customerId>.<expUnixSeconds>")>`. */
const TOKEN_RE = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/;
export const MIN_CUSTOMER_TOKEN_SECRET_CHARS = 32;

function mac(secret: Buffer, customerId: string, exp: string): string {
  return createHmac('sha256', secret).update(`${customerId}.${exp}`).digest('base64url');
}

/**
 * Signed customer ids. The site that knows its customers (the shop's login) mints a token for
 * a customer id with the shared secret; the gateway accepts that customer id only with a token
 * that is valid and unexpired. The id is not inside the token: the token proves the id the
 * request names. Stateless, so every gateway checks it alone.
 */
export class CustomerTokens {
  private readonly secret: Buffer;

  constructor(secret: string) {
    if (secret.length < MIN_CUSTOMER_TOKEN_SECRET_CHARS)
      throw new Error(`the customer token secret must be at least ${MIN_CUSTOMER_TOKEN_SECRET_CHARS} characters`);
    this.secret = Buffer.from(secret);
  }

  /** Mints a token for `customerId` valid until `expiresAtSeconds` (Unix seconds). */
  mint(customerId: string, expiresAtSeconds: number): string {
    const exp = String(Math.floor(expiresAtSeconds));
    return `${exp}.${mac(this.secret, customerId, exp)}`;
  }

  /** Throws UNAUTHENTICATED unless `token` is a valid, unexpired token for `customerId`. */
  check(customerId: string, token: string | undefined, nowMs: number): void {
    if (token === undefined || token === '') throw new SeatError(ErrorCode.UNAUTHENTICATED, 'a customerId needs its customer token');
    const m = TOKEN_RE.exec(token);
    if (!m || !this.matches(customerId, m[1] as string, m[2] as string))
      throw new SeatError(ErrorCode.UNAUTHENTICATED, 'the customer token does not match this customerId');
    if (Number(m[1]) * 1000 <= nowMs) throw new SeatError(ErrorCode.UNAUTHENTICATED, 'the customer token has expired');
  }

  private matches(customerId: string, exp: string, givenMac: string): boolean {
    const given = Buffer.from(givenMac);
    const expected = Buffer.from(mac(this.secret, customerId, exp));
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
