import type { Redis } from 'ioredis';
import { clusterKeys } from '../subjects.ts';
import type { Member } from './ring.ts';

/**
 * Where workers say they are alive. Every call reads the list as of now, with members whose
 * last heartbeat is older than the TTL already gone.
 *
 * Concurrency contract: any number of processes may call any method at once; each call is
 * atomic on the store (one Lua script), and the liveness clock is the store's, not the
 * caller's, so skewed clocks across machines cannot keep a dead member alive.
 */
export interface MembershipStore {
  /** Records a heartbeat of `self` (when given), drops expired members, returns the live list sorted by id. */
  beat(self: Member | null, ttlMs: number): Promise<Member[]>;
  /** Removes a member at once (graceful leave). */
  leave(nodeId: string): Promise<void>;
  /** Deletes every key of this cluster (tests, teardown). */
  destroy(): Promise<void>;
}

/**
 * The store's own clock, the one leases are timed by: the cluster's reference for decision
 * time (SharedClock measures this process's offset to it).
 */
export interface ServerClock {
  /** Milliseconds since the epoch on the store's clock (fractional). */
  time(): Promise<number>;
}

/**
 * One live process per NODE_ID: a claim is a token under the node id with a TTL.
 *
 * Concurrency contract: any number of processes may race for an id; each method is atomic on
 * the store, so at most one token holds an id at a time.
 */
export interface NodeClaimStore {
  /** Claims `nodeId` for `token` if free (or already this token's): null then, else how long the holder's claim still lasts (ms). */
  tryClaim(nodeId: string, token: string, ttlMs: number): Promise<number | null>;
  /** Ours or free: (re)set with a fresh TTL and true. Anyone else's: false. */
  refreshClaim(nodeId: string, token: string, ttlMs: number): Promise<boolean>;
  /** Deletes the claim only if it is still this token's. */
  releaseClaim(nodeId: string, token: string): Promise<void>;
}

/** Key lifetime: abandoned clusters (a crashed test run) vanish on their own. */
const KEY_IDLE_EXPIRY_MS = 10 * 60_000;

// Redis time in ms, the optional heartbeat, expiry of stale members, then the live list.
const BEAT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[1], now, ARGV[2])
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
if #dead > 0 then
  redis.call('ZREM', KEYS[1], unpack(dead))
  redis.call('HDEL', KEYS[2], unpack(dead))
end
local live = redis.call('ZRANGE', KEYS[1], 0, -1)
if #live == 0 then return {live, {}} end
return {live, redis.call('HMGET', KEYS[2], unpack(live))}
`;

/** Membership as a sorted set (node id → Redis time of its last heartbeat) plus a weight hash. */
export class RedisMembershipStore implements MembershipStore, ServerClock {
  private readonly keys: ReturnType<typeof clusterKeys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = clusterKeys(prefix);
  }

  async beat(self: Member | null, ttlMs: number): Promise<Member[]> {
    const [ids, weights] = (await this.redis.eval(
      BEAT_SCRIPT,
      2,
      this.keys.members,
      this.keys.weights,
      String(ttlMs),
      self?.nodeId ?? '',
      String(self?.weight ?? 1),
      String(KEY_IDLE_EXPIRY_MS),
    )) as [string[], Array<string | null>];
    const members = ids.map((nodeId, i) => ({ nodeId, weight: Number(weights[i] ?? 1) || 1 }));
    return members.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  }

  async leave(nodeId: string): Promise<void> {
    await this.redis.multi().zrem(this.keys.members, nodeId).hdel(this.keys.weights, nodeId).exec();
  }

  async time(): Promise<number> {
    return redisTime(this.redis);
  }

  async destroy(): Promise<void> {
    await this.redis.del(this.keys.members, this.keys.weights);
  }
}

/** Redis `TIME` in ms since the epoch (with the microseconds as a fraction). */
export async function redisTime(redis: Redis): Promise<number> {
  const [sec, usec] = await redis.time();
  return Number(sec) * 1000 + Number(usec) / 1000;
}
