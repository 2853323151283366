import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Hold tokens are HMACs of (show, hold) under a secret every node shares. Nothing secret is
 * stored in the log, and a retried hold can be answered with the same token again.
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
    const expected = Buffer.from(this.issue(showId, holdId));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
