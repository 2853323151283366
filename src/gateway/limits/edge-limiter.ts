import { Counter } from 'prom-client';
import { ErrorCode, SeatError, isSeatErrorCode } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { registry } from '../../metrics.ts';
import { rateCounter, type LimiterStore, type RateCounter } from './rate-counter.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_OVER_LIMIT_DELAY_MS, RATE_WINDOW_SECONDS, type EdgeLimitSettings } from './settings.ts';

/** The front door a request came through. */
export type Door = 'http' | 'ws' | 'grpc';

/**
 * The rate limits of the front doors, one interface for HTTP, WebSocket and gRPC. Every
 * method throws SeatError RATE_LIMITED (with `retryAfterSeconds`) when over a limit; each
 * door maps that to its protocol (429 + Retry-After, RESOURCE_EXHAUSTED + `error-code`, an
 * `error` frame). Concurrency: safe to call from any number of requests at once.
 */
export interface EdgeLimiter {
  /** Counts one hold attempt for the client address, and for the customer when one is named. */
  hold(door: Door, address: string, customerId: string | undefined): Promise<void>;
  /**
   * Runs an admin credential `check` for `address`. Wrong tokens (FORBIDDEN) are counted per
   * address; past the limit every admin call from it is refused without looking at the token,
   * so a guesser cannot tell a right guess from a wrong one until the window ends.
   */
  admin(address: string, check: () => void): Promise<void>;
}

const rateLimitedTotal =
  (registry.getSingleMetric('seats_rate_limited_total') as Counter<'rule'> | undefined) ??
  new Counter({
    name: 'seats_rate_limited_total',
    help: 'Requests refused by an edge rate limit',
    labelNames: ['rule'] as const,
    registers: [registry],
  });

class Limiter implements EdgeLimiter {
  private readonly holdsPerAddress: RateCounter;
  private readonly grpcHoldsPerAddress: RateCounter;
  private readonly holdsPerCustomer: RateCounter;
  private readonly adminFailures: RateCounter;
  private readonly delayMs: number;

  constructor(settings: EdgeLimitSettings, store: LimiterStore, logger: Logger) {
    this.delayMs = settings.overLimitDelayMs ?? DEFAULT_OVER_LIMIT_DELAY_MS;
    const counter = (rule: string, points: number) => rateCounter(store, rule, points, RATE_WINDOW_SECONDS, logger);
    this.holdsPerAddress = counter('holds-address', settings.holdsPerAddressPerMinute);
    this.grpcHoldsPerAddress = counter('grpc-holds-address', settings.grpcHoldsPerAddressPerMinute);
    this.holdsPerCustomer = counter('holds-customer', settings.holdsPerCustomerPerMinute);
    this.adminFailures = counter('admin-failures', settings.adminFailuresPerAddressPerMinute);
  }

  async hold(door: Door, address: string, customerId: string | undefined): Promise<void> {
    const perAddress = door === 'grpc' ? this.grpcHoldsPerAddress : this.holdsPerAddress;
    const wait = await perAddress.consume(address);
    if (wait > 0) throw await this.limited(door === 'grpc' ? 'grpc-holds-address' : 'holds-address', 'holds from this address', wait);
    if (customerId === undefined) return;
    const customerWait = await this.holdsPerCustomer.consume(customerId);
    if (customerWait > 0) throw await this.limited('holds-customer', 'holds for this customer', customerWait);
  }

  async admin(address: string, check: () => void): Promise<void> {
    const blocked = await this.adminFailures.peek(address);
    if (blocked > 0) throw await this.limited('admin-failures', 'wrong admin tokens from this address', blocked);
    try {
      check();
    } catch (err) {
      if (isSeatErrorCode(err, ErrorCode.FORBIDDEN)) await this.adminFailures.consume(address);
      throw err;
    }
  }

  /** The refusal, after the over-limit delay (never longer than the client is told to wait). */
  private async limited(rule: string, what: string, retryAfterSeconds: number): Promise<SeatError> {
    rateLimitedTotal.inc({ rule });
    const delay = Math.min(this.delayMs, retryAfterSeconds * 1_000);
    if (delay > 0) await sleep(delay);
    return new SeatError(ErrorCode.RATE_LIMITED, `too many ${what}; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
  }
}

export function createEdgeLimiter(settings: EdgeLimitSettings, store: LimiterStore, logger: Logger): EdgeLimiter {
  return new Limiter(settings, store, logger);
}
