import { randomFillSync } from 'node:crypto';

/** Bits of randomness in every id: as many as a UUIDv4 and more, not guessable by trying. */
export const RANDOM_ID_BYTES = 16;
/** Random bytes drawn from the system CSPRNG at a time: one call serves 256 ids. */
const POOL_BYTES = RANDOM_ID_BYTES * 256;

/**
 * Unguessable ids (hold ids, booking ids): `<prefix>_` and 128 bits from the system's
 * cryptographic generator, base64url. The bits come from a pool filled 4 KiB at a time, as
 * node's own randomUUID does: `randomBytes(16)` per id costs a call into OpenSSL and a new
 * Buffer each time, about forty times the cost of slicing a pool. Each pool byte is used once.
 *
 * Not for secrets that must survive a heap dump of this process better than the ids
 * themselves do; tokens are HMACs (hold-tokens.ts).
 */
export class RandomIds {
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES);
  private offset = POOL_BYTES;

  next(prefix: string): string {
    if (this.offset + RANDOM_ID_BYTES > POOL_BYTES) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const start = this.offset;
    this.offset = start + RANDOM_ID_BYTES;
    return `${prefix}_${this.pool.toString('base64url', start, start + RANDOM_ID_BYTES)}`;
  }
}

const shared = new RandomIds();

/** An unguessable id `<prefix>_<22 base64url characters>` (128 random bits). */
export function newId(prefix: string): string {
  return shared.next(prefix);
}
