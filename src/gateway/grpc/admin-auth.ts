import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { ErrorCode, SeatError } from '../../errors.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Checks the `authorization: Bearer <ADMIN_TOKEN>` metadata of admin calls, with the
 * HTTP edge's semantics: none → UNAUTHENTICATED, a wrong one → FORBIDDEN. Both sides are
 * hashed first so the comparison takes the same time whatever the guess's length.
 */
export class GrpcAdminAuth {
  private readonly expected: Buffer;

  constructor(adminToken: string) {
    this.expected = digest(adminToken);
  }

  check(metadata: Metadata): void {
    const values = metadata.get('authorization');
    const header = values.length === 1 && typeof values[0] === 'string' ? values[0] : '';
    const match = /^bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new SeatError(ErrorCode.UNAUTHENTICATED, 'admin calls need authorization: Bearer <token>');
    if (!timingSafeEqual(digest(match[1]), this.expected)) throw new SeatError(ErrorCode.FORBIDDEN, 'the admin token is not valid');
  }
}
