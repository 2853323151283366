import type { ErrorCode, ErrorDetails } from '../errors.ts';
import { SeatClientError } from './errors.ts';

export interface HttpOptions {
  /** Base URL of a gateway, e.g. `http://localhost:8080`. */
  url: string;
  adminToken?: string;
  /** Attempts per call for retryable answers (503, 504, 429, network errors); default 4. */
  attempts?: number;
  /** First backoff in ms (doubled per attempt, capped by Retry-After when the server gives one); default 200. */
  backoffMs?: number;
  /** fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

export interface CallOptions {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  admin?: boolean;
  headers?: Record<string, string>;
  /** Mutations get an Idempotency-Key (the same on every retry of this call). */
  mutation?: boolean;
}

/** 32 unguessable characters from the platform's crypto (browsers and Node alike). */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(24);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s.slice(0, 32);
}

const RETRYABLE_STATUS = new Set([429, 503, 504]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One JSON call with retries: a retry sends the same Idempotency-Key, so a write the server
 * did but whose answer was lost is answered, not done twice.
 */
export async function call<T>(opts: HttpOptions, c: CallOptions): Promise<T> {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const attempts = Math.max(1, opts.attempts ?? 4);
  const headers: Record<string, string> = { accept: 'application/json', ...c.headers };
  if (c.body !== undefined) headers['content-type'] = 'application/json';
  if (c.admin) {
    if (!opts.adminToken) throw new SeatClientError('UNAUTHENTICATED', 'this call needs the client created with adminToken', 0);
    headers.authorization = `Bearer ${opts.adminToken}`;
  }
  if (c.mutation) headers['idempotency-key'] = newIdempotencyKey();
  const url = `${opts.url.replace(/\/+$/, '')}${c.path}`;
  let backoff = opts.backoffMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    let error: SeatClientError;
    let retryAfterMs: number | undefined;
    try {
      const res = await doFetch(url, { method: c.method, headers, ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}) });
      const text = await res.text();
      if (res.ok) return (text ? JSON.parse(text) : undefined) as T;
      error = errorOf(res.status, text);
      const after = Number(res.headers.get('retry-after'));
      if (Number.isFinite(after) && after > 0) retryAfterMs = after * 1000;
      if (!RETRYABLE_STATUS.has(res.status)) throw error;
    } catch (err) {
      if (err instanceof SeatClientError && !err.retryable) throw err;
      error = err instanceof SeatClientError ? err : new SeatClientError('NETWORK', `could not reach ${opts.url}`, 0, {}, { cause: err });
    }
    if (attempt >= attempts) throw error;
    await sleep(retryAfterMs ?? backoff);
    backoff *= 2;
  }
}

function errorOf(status: number, text: string): SeatClientError {
  try {
    const body = JSON.parse(text) as { error?: { code: ErrorCode; message: string } & ErrorDetails };
    if (body.error?.code) {
      const { code, message, ...details } = body.error;
      return new SeatClientError(code, message, status, details);
    }
  } catch {
    // not JSON: fall through
  }
  return new SeatClientError(status >= 500 ? 'UNAVAILABLE' : 'INVALID_ARGUMENT', `HTTP ${status}`, status);
}
