import { ErrorCode, SeatError } from '../../errors.ts';

/** A response as it went out, replayed byte for byte on a retry. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string> | null;
  body: string | null;
}

export const DEFAULT_IDEMPOTENCY_MAX_ENTRIES = 100_000;
export const DEFAULT_IDEMPOTENCY_MAX_BYTES = 128 * 1024 * 1024;
export const DEFAULT_IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

interface Entry {
  fingerprint: string;
  response: StoredResponse;
  expiresAt: number;
  bytes: number;
}

interface InFlight {
  fingerprint: string;
  done: Promise<StoredResponse>;
}

export interface IdempotencyCacheOptions {
  maxEntries?: number;
  maxBytes?: number;
  ttlMs?: number;
  now?: () => number;
}

/**
 * First responses by idempotency key, so a retry gets exactly the first answer even when the
 * service would answer differently now (a hold that has since expired, a show since
 * cancelled). The actors dedup durably too; this cache makes the replay exact and cheap.
 *
 * Bounded by entries, bytes and age; least recently used goes first. Concurrency contract:
 * single-threaded; a duplicate arriving while the first is running waits for its result
 * instead of running again.
 */
export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, InFlight>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(opts: IdempotencyCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? DEFAULT_IDEMPOTENCY_MAX_ENTRIES;
    this.maxBytes = opts.maxBytes ?? DEFAULT_IDEMPOTENCY_MAX_BYTES;
    this.ttlMs = opts.ttlMs ?? DEFAULT_IDEMPOTENCY_TTL_MS;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Answers `key` once: a stored response if the key was seen with the same fingerprint,
   * IDEMPOTENCY_MISMATCH if it was seen with another, otherwise runs `execute` and keeps its
   * response when `keep(response)` says so (retryable failures are not kept).
   */
  run(
    key: string,
    fingerprint: string,
    execute: () => Promise<StoredResponse>,
    keep: (response: StoredResponse) => boolean,
  ): Promise<StoredResponse> {
    const hit = this.entries.get(key);
    if (hit) {
      if (hit.expiresAt > this.now()) {
        if (hit.fingerprint !== fingerprint) return Promise.reject(mismatch());
        // Re-insert to mark it most recently used.
        this.entries.delete(key);
        this.entries.set(key, hit);
        return Promise.resolve(hit.response);
      }
      this.remove(key, hit);
    }
    const running = this.inFlight.get(key);
    if (running) return running.fingerprint === fingerprint ? running.done : Promise.reject(mismatch());
    // A plain promise chain, not an async function: one promise per request fewer, on every write.
    let done: Promise<StoredResponse>;
    try {
      done = execute().then(
        (response) => {
          this.inFlight.delete(key);
          if (keep(response)) this.store(key, fingerprint, response);
          return response;
        },
        (err: unknown) => {
          this.inFlight.delete(key);
          throw err;
        },
      );
    } catch (err) {
      return Promise.reject(err);
    }
    this.inFlight.set(key, { fingerprint, done });
    return done;
  }

  private store(key: string, fingerprint: string, response: StoredResponse): void {
    const bytes = key.length + fingerprint.length + (response.body?.length ?? 0) + 64;
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { fingerprint, response, expiresAt: this.now() + this.ttlMs, bytes });
    this.bytes += bytes;
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.entries.entries().next().value;
      if (!oldest) break;
      this.remove(oldest[0], oldest[1]);
    }
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}

function mismatch(): SeatError {
  return new SeatError(ErrorCode.IDEMPOTENCY_MISMATCH, 'this Idempotency-Key was used with a different request');
}
