import { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';

/**
 * A Redis client for membership: commands fail fast (a heartbeat that cannot reach Redis
 * must fail within the TTL, not queue), reconnects forever in the background.
 */
export function connectRedis(url: string, commandTimeoutMs: number, logger: Logger): Redis {
  const log = logger.child({ subsystem: 'redis' });
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 5_000,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(50 * times, 1_000),
    lazyConnect: false,
  });
  let warned = false;
  redis.on('error', (err: Error) => {
    if (!warned) log.warn({ err }, 'redis connection error');
    warned = true;
  });
  redis.on('ready', () => {
    if (warned) log.info('redis connection ready');
    warned = false;
  });
  return redis;
}
