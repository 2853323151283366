import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCode, SeatError } from './errors.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Checks an `Authorization: Bearer <ADMIN_TOKEN>` value, the same for every front door:
 * none or another scheme → UNAUTHENTICATED, a wrong token → FORBIDDEN. Both sides are hashed
 * first so the comparison takes the same time whatever the length or content of the guess.
 */
export class AdminAuth {
  private readonly expected: Buffer;

  constructor(adminToken: string) {
    this.expected = digest(adminToken);
  }

  check(authorization: string | undefined): void {
    const match = authorization ? /^bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!match) throw new SeatError(ErrorCode.UNAUTHENTICATED, 'admin calls need authorization: Bearer <token>');
    if (!timingSafeEqual(digest(match[1]), this.expected)) throw new SeatError(ErrorCode.FORBIDDEN, 'the admin token is not valid');
  }
}
