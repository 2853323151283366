import { Redis } from 'ioredis';
import type { NatsConnection } from 'nats';
import { Ring } from '../../src/cluster/ring.ts';
import type { Placement, PlacementChange } from '../../src/cluster/placement.ts';
import { startClusterTakeover, type ClusterTakeover } from '../../src/cluster/takeover.ts';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openDurableStorage } from '../../src/persistence/durable-storage.ts';
import { connectTestNats, testLogger, type DurableTestEnv } from '../durable/support.ts';
import { SERVICE_URLS } from '../../testkit/services.ts';

/** A placement whose member list a test sets by hand (every node of a test shares the ring logic). */
export class SettablePlacement implements Placement {
  readonly selfAlive = true;
  private ring: Ring;
  private readonly listeners = new Set<(c: PlacementChange) => void>();

  constructor(
    readonly selfId: string | null,
    members: string[],
  ) {
    this.ring = new Ring(members.map((nodeId) => ({ nodeId, weight: 1 })));
  }

  owner(showId: string): string | null {
    return this.ring.owner(showId);
  }
  replica(showId: string): string | null {
    return this.ring.replica(showId);
  }
  members(): string[] {
    return [...this.ring.members];
  }
  onChange(listener: (c: PlacementChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async refresh(): Promise<void> {}

  set(members: string[]): void {
    const before = this.members();
    this.ring = new Ring(members.map((nodeId) => ({ nodeId, weight: 1 })));
    for (const l of this.listeners) l({ before, after: this.members() });
  }
}

/** One in-process worker: its own storage connections, node, placement view and takeover layer. */
export interface TestWorker {
  id: string;
  node: SeatNode;
  placement: SettablePlacement;
  takeover: ClusterTakeover;
  nc: NatsConnection;
  redis: Redis;
  close(): Promise<void>;
}

export async function startTestWorker(
  env: DurableTestEnv,
  id: string,
  members: string[],
  clusterPrefix: string,
  timings: { expirySweepMs?: number; expiryMarginMs?: number; passivateAfterMs?: number; follow?: boolean } = {},
): Promise<TestWorker> {
  const { follow = true, ...config } = timings;
  const storage = await openDurableStorage({ ...env.config, nodeId: id }, testLogger, env.options);
  const node = createSeatNode(
    { holdTokenSecret: 'x'.repeat(32), snapshotEveryEvents: 1_000, snapshotEveryMs: 60_000 },
    storage,
    testLogger,
  );
  const placement = new SettablePlacement(id, members);
  const nc = await connectTestNats(`takeover-${id}`);
  const redis = new Redis(SERVICE_URLS.redis, { maxRetriesPerRequest: 1 });
  const takeover = await startClusterTakeover({
    host: node.host,
    storage,
    placement,
    redis,
    nc: follow ? nc : null,
    logger: testLogger,
    config: { clusterPrefix, ...config },
  });
  node.addCommitListener((batch) => takeover.commitListener(batch));
  let closed = false;
  return {
    id,
    node,
    placement,
    takeover,
    nc,
    redis,
    close: async () => {
      if (closed) return;
      closed = true;
      await takeover.close();
      await node.close();
      await nc.close();
      redis.disconnect();
    },
  };
}

/** A show id whose owner and replica on the ring of `members` are the given nodes. */
export function showPlacedOn(members: string[], owner: string, replica: string, prefix: string): string {
  const ring = new Ring(members.map((nodeId) => ({ nodeId, weight: 1 })));
  for (let i = 0; ; i++) {
    const id = `${prefix}-${i}`;
    if (ring.owner(id) === owner && ring.replica(id) === replica) return id;
  }
}

export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(SERVICE_URLS.redis, { maxRetriesPerRequest: 1 });
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}
