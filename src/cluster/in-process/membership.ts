import type { MembershipStore, NodeClaimStore, ServerClock } from '../membership.ts';
import type { Member } from '../ring.ts';

/** The error a cut-off client gets, as a Redis client whose command timed out. */
export class StoreUnreachableError extends Error {
  override name = 'StoreUnreachableError';
}

/**
 * The membership store of an in-process cluster: the Redis store's rules (leases timed by the
 * store's clock, members sorted by id, weights, node-id claims with a TTL) on a clock the test
 * moves. Faults: `down()` makes every call fail (a Redis outage), `cut(name)` only one
 * process's calls (a partition), `expire(nodeId)` ends one lease now.
 *
 * Each process talks to it through `client(name)`, so a fault can single one process out.
 */
export class InProcessMembership {
  private readonly beats = new Map<string, { at: number; weight: number }>();
  private readonly claims = new Map<string, { token: string; until: number }>();
  private readonly cutOff = new Set<string>();
  private isDown = false;

  constructor(readonly now: () => number) {}

  client(name: string): MembershipStore & NodeClaimStore & ServerClock {
    const check = () => {
      if (this.isDown || this.cutOff.has(name))
        return Promise.reject(new StoreUnreachableError(`membership store unreachable from ${name}`));
      return Promise.resolve();
    };
    return {
      beat: async (self, ttlMs) => {
        await check();
        return this.beat(self, ttlMs);
      },
      leave: async (nodeId) => {
        await check();
        this.beats.delete(nodeId);
      },
      destroy: async () => {
        this.beats.clear();
        this.claims.clear();
      },
      time: async () => {
        await check();
        return this.now();
      },
      tryClaim: async (nodeId, token, ttlMs) => {
        await check();
        const c = this.liveClaim(nodeId);
        if (!c || c.token === token) {
          this.claims.set(nodeId, { token, until: this.now() + ttlMs });
          return null;
        }
        return c.until - this.now();
      },
      refreshClaim: async (nodeId, token, ttlMs) => {
        await check();
        const c = this.liveClaim(nodeId);
        if (c && c.token !== token) return false;
        this.claims.set(nodeId, { token, until: this.now() + ttlMs });
        return true;
      },
      releaseClaim: async (nodeId, token) => {
        await check();
        if (this.claims.get(nodeId)?.token === token) this.claims.delete(nodeId);
      },
    };
  }

  down(): void {
    this.isDown = true;
  }
  up(): void {
    this.isDown = false;
  }
  cut(name: string): void {
    this.cutOff.add(name);
  }
  heal(name: string): void {
    this.cutOff.delete(name);
  }
  /** Ends a member's lease now (as if its last beat were older than any TTL). */
  expire(nodeId: string): void {
    this.beats.delete(nodeId);
  }

  /** Node ids with a beat on record (expired ones included until the next beat drops them). */
  get recorded(): string[] {
    return [...this.beats.keys()].sort();
  }

  private beat(self: Member | null, ttlMs: number): Member[] {
    const now = this.now();
    if (self) this.beats.set(self.nodeId, { at: now, weight: self.weight });
    for (const [id, b] of this.beats) if (b.at <= now - ttlMs) this.beats.delete(id);
    return [...this.beats]
      .map(([nodeId, b]) => ({ nodeId, weight: b.weight }))
      .sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  }

  private liveClaim(nodeId: string): { token: string; until: number } | null {
    const c = this.claims.get(nodeId);
    if (!c) return null;
    if (c.until <= this.now()) {
      this.claims.delete(nodeId);
      return null;
    }
    return c;
  }
}
