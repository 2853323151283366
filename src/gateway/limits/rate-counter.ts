import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../../logger.ts';

/**
 * Where rate-limit counters live. `memory`: this process only (embedded / all-in-one).
 * `redis`: shared by every gateway of a cluster, so a client cannot multiply its budget by
 * spreading over gateways; keys are `<keyPrefix>:rl:<rule>:<key>`.
 */
export type LimiterStore = { kind: 'memory' } | { kind: 'redis'; redis: Redis; keyPrefix: string };

/**
 * One fixed-window counter per key (an address, a customer id). Concurrency: any number of
 * calls at once; the store counts atomically (a Lua script in Redis).
 */
export interface RateCounter {
  /** Counts one use of `key`; resolves 0 when allowed, else the seconds until it may be tried again. */
  consume(key: string): Promise<number>;
  /** Like consume without counting: 0 when `key` is under its limit now. */
  peek(key: string): Promise<number>;
}

const seconds = (ms: number | undefined) => Math.max(1, Math.ceil((ms ?? 1_000) / 1_000));

class FlexibleCounter implements RateCounter {
  constructor(
    private readonly limiter: RateLimiterAbstract,
    private readonly points: number,
    private readonly log: Logger,
  ) {}

  async consume(key: string): Promise<number> {
    try {
      await this.limiter.consume(key);
      return 0;
    } catch (res) {
      if (res instanceof RateLimiterRes) return seconds(res.msBeforeNext);
      // The store failed and so did its insurance: let the request through rather than
      // take the door down (a limit is protection, not a dependency).
      this.log.warn({ err: res }, 'rate limiter failed; request let through');
      return 0;
    }
  }

  async peek(key: string): Promise<number> {
    try {
      const res = await this.limiter.get(key);
      return res !== null && res.consumedPoints >= this.points ? seconds(res.msBeforeNext) : 0;
    } catch (err) {
      this.log.warn({ err }, 'rate limiter failed; request let through');
      return 0;
    }
  }
}

const UNLIMITED: RateCounter = { consume: async () => 0, peek: async () => 0 };

/**
 * A counter allowing `points` uses per `durationSeconds` per key; 0 points: no limit. With
 * Redis, a key already over its limit is answered from memory until its window ends (a
 * client hammering past its limit costs no Redis call), and while Redis is down or slow an
 * in-memory counter of the same size stands in, so the limit holds per gateway instead of
 * cluster-wide and no request waits on Redis.
 */
export function rateCounter(store: LimiterStore, rule: string, points: number, durationSeconds: number, logger: Logger): RateCounter {
  if (points <= 0) return UNLIMITED;
  const log = logger.child({ subsystem: 'rate-limit', rule });
  if (store.kind === 'memory')
    return new FlexibleCounter(new RateLimiterMemory({ keyPrefix: rule, points, duration: durationSeconds }), points, log);
  const limiter = new RateLimiterRedis({
    storeClient: store.redis,
    keyPrefix: `${store.keyPrefix}:rl:${rule}`,
    points,
    duration: durationSeconds,
    rejectIfRedisNotReady: true,
    inMemoryBlockOnConsumed: points + 1,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: `insurance:${rule}`, points, duration: durationSeconds }),
  });
  return new FlexibleCounter(limiter, points, log);
}
