/**
 * Customers for the fault suite: each loops hold (best available, 1–2 seats) → confirm (most
 * of the time) or release, through the gateway's HTTP API, one Idempotency-Key per operation
 * and retries of that operation on 5xx, 429 and network errors, as a careful client does.
 * Every attempt is logged with its start, end and status, so the report can say what
 * customers saw during a fault, not only what finally succeeded.
 */
import { randomUUID } from 'node:crypto';

export type Op = 'hold' | 'confirm' | 'release';

export interface Attempt {
  op: Op;
  showId: string;
  startedAt: number;
  endedAt: number;
  /** HTTP status; 599: no answer (connection refused, reset, client timeout). */
  status: number;
  code?: string;
}

export interface AckedBooking {
  bookingId: string;
  showId: string;
  seats: string[];
}

export interface CustomerOptions {
  gatewayUrl: string;
  customers: number;
  /** Hold TTL customers ask for. */
  holdTtlSeconds: number;
  /** Share of holds confirmed (the rest are released). */
  confirmShare: number;
  /** Give up on one operation after this long (its hold then expires on its own). */
  opDeadlineMs: number;
}

export const DEFAULT_CUSTOMER_OPTIONS: Omit<CustomerOptions, 'gatewayUrl'> = {
  customers: 16,
  holdTtlSeconds: 30,
  confirmShare: 0.6,
  opDeadlineMs: 20_000,
};

/** One attempt's wait: short, so the suite sees recovery as soon as it happens (Retry-After is in whole seconds). */
const RETRY_PAUSE_MS = 100;
const ATTEMPT_TIMEOUT_MS = 10_000;

function isRetryable(status: number): boolean {
  return status >= 500 || status === 429;
}

/** A running crowd of customers over a set of shows; `stop()` waits for operations in flight. */
export class Customers {
  readonly attempts: Attempt[] = [];
  readonly acked: AckedBooking[] = [];
  private stopping = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly opts: CustomerOptions,
    private readonly showIds: string[],
  ) {}

  start(): void {
    this.loops = Array.from({ length: this.opts.customers }, (_, i) => this.loop(i));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.loops);
  }

  private async attempt(
    op: Op,
    showId: string,
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: any }> {
    const startedAt = Date.now();
    let status = 599;
    let parsed: any;
    try {
      const r = await fetch(`${this.opts.gatewayUrl}${path}`, {
        method,
        headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
      status = r.status;
      const text = await r.text();
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      status = 599;
    }
    const a: Attempt = { op, showId, startedAt, endedAt: Date.now(), status };
    const code = parsed?.error?.code;
    if (typeof code === 'string') a.code = code;
    this.attempts.push(a);
    return { status, body: parsed };
  }

  /** One operation: the same key on every attempt until an answer that is not retryable, or the deadline. */
  private async op(
    op: Op,
    showId: string,
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: any }> {
    const key = randomUUID();
    const deadline = Date.now() + this.opts.opDeadlineMs;
    for (;;) {
      const answer = await this.attempt(op, showId, method, path, body, { ...headers, 'idempotency-key': key });
      if (!isRetryable(answer.status) || Date.now() >= deadline) return answer;
      await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
    }
  }

  private async loop(i: number): Promise<void> {
    let n = 0;
    while (!this.stopping) {
      const showId = this.showIds[(i + n++) % this.showIds.length] as string;
      const show = encodeURIComponent(showId);
      const h = await this.op('hold', showId, 'POST', `/v1/shows/${show}/holds`, {
        count: 1 + Math.floor(Math.random() * 2),
        category: 'gold',
        ttlSeconds: this.opts.holdTtlSeconds,
        customerId: `c${i}`,
      });
      if (h.status !== 201) {
        // Sold out or refused: do not spin.
        if (!isRetryable(h.status)) await new Promise((r) => setTimeout(r, RETRY_PAUSE_MS));
        continue;
      }
      const path = `/v1/shows/${show}/holds/${h.body.holdId}`;
      const headers = { 'hold-token': h.body.holdToken as string };
      if (Math.random() < this.opts.confirmShare) {
        const c = await this.op('confirm', showId, 'POST', `${path}/confirm`, {}, headers);
        if (c.status === 201) this.acked.push({ bookingId: c.body.bookingId, showId, seats: c.body.seats });
      } else {
        await this.op('release', showId, 'DELETE', path, undefined, headers);
      }
    }
  }
}
