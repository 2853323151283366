import HashRing from 'hashring';

/** A live worker as membership reports it. */
export interface Member {
  nodeId: string;
  weight: number;
}

/**
 * Virtual nodes per unit of weight. hashring places 4 points per virtual node, so one unit
 * is 640 points on the circle: 1,000 shows over 3 equal workers land within a few percent
 * of even, and lookups stay O(log points).
 */
export const VNODES_PER_WEIGHT = 160;

/**
 * The consistent-hash ring of one member list. Pure: the same members (in any order) give
 * the same ring on every process, because it is always built from the list sorted by id.
 */
export class Ring {
  readonly members: readonly string[];
  private readonly ring: HashRing | null;

  constructor(members: readonly Member[]) {
    const sorted = [...members].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
    this.members = sorted.map((m) => m.nodeId);
    const servers: Record<string, { vnodes: number }> = {};
    for (const m of sorted) servers[m.nodeId] = { vnodes: Math.max(1, Math.round(m.weight * VNODES_PER_WEIGHT)) };
    // hashring caches lookups in an LRU; the cache is per ring and dropped with it.
    this.ring = sorted.length > 0 ? new HashRing(servers, 'md5', { 'max cache size': 20_000 }) : null;
  }

  owner(key: string): string | null {
    return this.ring ? this.ring.get(key) : null;
  }

  /** The owner, then the next distinct nodes clockwise, at most `n` in all. */
  preference(key: string, n: number): string[] {
    return this.ring ? this.ring.range(key, Math.min(n, this.members.length), true) : [];
  }

  replica(key: string): string | null {
    return this.preference(key, 2)[1] ?? null;
  }
}

/** Whether two sorted member lists are equal. */
export function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
