import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, SeatError } from '../../errors.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Checks `Authorization: Bearer <ADMIN_TOKEN>`. Both sides are hashed first so the
 * comparison takes the same time whatever the length or content of the guess.
 */
export class AdminAuth {
  private readonly expected: Buffer;

  constructor(adminToken: string) {
    this.expected = digest(adminToken);
  }

  /** Throws UNAUTHENTICATED (no credentials) or FORBIDDEN (wrong ones). */
  check(headers: IncomingHttpHeaders): void {
    const header = headers.authorization;
    if (header === undefined || header === '')
      throw new SeatError(ErrorCode.UNAUTHENTICATED, 'admin calls need Authorization: Bearer <token>');
    const space = header.indexOf(' ');
    const scheme = space < 0 ? header : header.slice(0, space);
    if (scheme.toLowerCase() !== 'bearer')
      throw new SeatError(ErrorCode.UNAUTHENTICATED, 'admin calls need Authorization: Bearer <token>');
    const token = header.slice(space + 1).trim();
    if (!timingSafeEqual(digest(token), this.expected)) throw new SeatError(ErrorCode.FORBIDDEN, 'the admin token is not valid');
  }
}
