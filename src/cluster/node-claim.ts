import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';
import { clusterKeys } from '../subjects.ts';
import type { NodeClaimStore } from './membership.ts';

/** Thrown at start when another live process holds this NODE_ID. */
export class NodeIdInUseError extends Error {
  override name = 'NodeIdInUseError';
  constructor(
    readonly nodeId: string,
    readonly holderTtlMs: number,
  ) {
    super(
      `NODE_ID ${nodeId} is already in use by a live process (its claim lasts another ${holderTtlMs} ms unless that process stops); refusing to start a second one`,
    );
  }
}

/** How long a starting worker retries store errors while claiming its id. */
const CLAIM_ERROR_PATIENCE_MS = 10_000;

// Ours, or free (expired, or Redis restarted empty): set it with a fresh TTL. Anyone else's: lost.
const REFRESH_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
`;

// Deletes the claim only if it is still ours.
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** Claims as Redis keys holding the claiming process's token (SET NX with a TTL). */
export class RedisNodeClaimStore implements NodeClaimStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async tryClaim(nodeId: string, token: string, ttlMs: number): Promise<number | null> {
    const key = clusterKeys(this.prefix).nodeClaim(nodeId);
    const ok = await this.redis.set(key, token, 'PX', ttlMs, 'NX');
    if (ok === 'OK') return null;
    const [holder, ttl] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
    if (holder === token) return null;
    return Math.max(0, ttl);
  }

  async refreshClaim(nodeId: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(REFRESH_SCRIPT, 1, clusterKeys(this.prefix).nodeClaim(nodeId), token, String(ttlMs))) === 1;
  }

  async releaseClaim(nodeId: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, 1, clusterKeys(this.prefix).nodeClaim(nodeId), token);
  }
}

/**
 * One live process per NODE_ID: the id is claimed in a NodeClaimStore under a random token of
 * the process that claimed it, with a TTL, refreshed with every heartbeat. A second process
 * with the same id finds it taken and refuses to start; a restart after a crash claims it
 * once the dead process's TTL ran out.
 */
export class NodeIdClaim {
  readonly token = randomUUID();

  constructor(
    private readonly store: NodeClaimStore,
    readonly nodeId: string,
    private readonly ttlMs: number,
  ) {}

  /** One attempt: null when claimed, else how long the current holder's claim still lasts (ms). */
  tryClaim(): Promise<number | null> {
    return this.store.tryClaim(this.nodeId, this.token, this.ttlMs);
  }

  /**
   * Claims the id, waiting up to `waitMs` for a previous holder's claim to expire (a restart
   * right after a crash); throws NodeIdInUseError when a live process keeps refreshing it.
   * Store errors (still connecting, a slow reply) are retried for up to CLAIM_ERROR_PATIENCE_MS.
   */
  async claim(waitMs: number, logger: Logger): Promise<void> {
    const started = performance.now();
    const deadline = started + waitMs;
    const errorDeadline = started + Math.max(waitMs, CLAIM_ERROR_PATIENCE_MS);
    let logged = false;
    let erred = false;
    for (;;) {
      let holderTtl: number | null;
      try {
        holderTtl = await this.tryClaim();
      } catch (err) {
        if (performance.now() > errorDeadline) throw err;
        if (!erred) logger.warn({ err, nodeId: this.nodeId }, 'could not claim NODE_ID yet; retrying');
        erred = true;
        await sleep(100);
        continue;
      }
      if (holderTtl === null) return;
      if (performance.now() + Math.min(holderTtl, 50) > deadline) throw new NodeIdInUseError(this.nodeId, holderTtl);
      if (!logged)
        logger.info(
          { nodeId: this.nodeId, holderTtlMs: holderTtl },
          'NODE_ID is claimed by another process; waiting for the claim to expire',
        );
      logged = true;
      await sleep(Math.max(10, Math.min(holderTtl, 100, deadline - performance.now())));
    }
  }

  /** Check-and-refresh with the heartbeat: false when another process holds the id now. */
  refresh(): Promise<boolean> {
    return this.store.refreshClaim(this.nodeId, this.token, this.ttlMs);
  }

  /** Frees the id at a graceful stop (only if still ours). */
  release(): Promise<void> {
    return this.store.releaseClaim(this.nodeId, this.token);
  }
}
