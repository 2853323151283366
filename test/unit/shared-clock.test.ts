import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSkewed, OffsetEstimator, sampleOf } from '../../src/cluster/clock-offset.ts';
import type { MembershipStore } from '../../src/cluster/membership.ts';
import type { Member } from '../../src/cluster/ring.ts';
import { gateMembership } from '../../src/cluster/shared-clock.ts';

describe('clock offset estimation', () => {
  it('places the reference reading at the midpoint of the round trip', () => {
    assert.deepEqual(sampleOf({ localSentMs: 1_000, localReceivedMs: 1_010, referenceMs: 31_005 }), { offsetMs: 30_000, rttMs: 10 });
    assert.deepEqual(sampleOf({ localSentMs: 1_000, localReceivedMs: 1_000, referenceMs: 500 }), { offsetMs: -500, rttMs: 0 });
  });

  it('follows the shortest round trip of its window, so one slow answer does not move it', () => {
    const e = new OffsetEstimator(3);
    assert.equal(e.offsetMs, null);
    e.add({ offsetMs: 100, rttMs: 2 });
    e.add({ offsetMs: 400, rttMs: 600 });
    assert.equal(e.offsetMs, 100);
    assert.equal(e.uncertaintyMs, 1);
    // A stepped local clock is followed once the old samples leave the window.
    e.add({ offsetMs: -29_000, rttMs: 3 });
    e.add({ offsetMs: -29_001, rttMs: 4 });
    assert.equal(e.offsetMs, -29_000);
  });

  it('is skewed only beyond the bound, either way', () => {
    assert.equal(isSkewed(null, 500), false);
    assert.equal(isSkewed(500, 500), false);
    assert.equal(isSkewed(-501, 500), true);
    assert.equal(isSkewed(30_000, 500), true);
  });

  it('once skewed, stays so until the offset is well inside the bound', () => {
    assert.equal(isSkewed(450, 500, true), true);
    assert.equal(isSkewed(-399, 500, true), false);
    assert.equal(isSkewed(450, 500, false), false);
  });
});

/** An in-memory membership store: heartbeats without expiry, which is all the gate needs. */
class MemoryStore implements MembershipStore {
  readonly members = new Map<string, number>();
  leaves = 0;
  async beat(self: Member | null, _ttlMs = 0): Promise<Member[]> {
    if (self) this.members.set(self.nodeId, self.weight);
    return [...this.members].map(([nodeId, weight]) => ({ nodeId, weight })).sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
  }
  async leave(nodeId: string): Promise<void> {
    this.leaves++;
    this.members.delete(nodeId);
  }
  async destroy(): Promise<void> {
    this.members.clear();
  }
}

describe('membership gated by the clock', () => {
  it('leaves once and stays out while skewed, rejoins when the clock is back', async () => {
    const store = new MemoryStore();
    const clock = { skewed: false };
    const gated = gateMembership(store, clock);
    const self = { nodeId: 'w1', weight: 1 };
    await store.beat({ nodeId: 'w0', weight: 1 });
    assert.deepEqual(
      (await gated.beat(self, 800)).map((m) => m.nodeId),
      ['w0', 'w1'],
    );

    clock.skewed = true;
    assert.deepEqual(
      (await gated.beat(self, 800)).map((m) => m.nodeId),
      ['w0'],
    );
    assert.deepEqual(
      (await gated.beat(self, 800)).map((m) => m.nodeId),
      ['w0'],
    );
    assert.equal(store.leaves, 1);
    assert.ok(!store.members.has('w1'));

    clock.skewed = false;
    assert.deepEqual(
      (await gated.beat(self, 800)).map((m) => m.nodeId),
      ['w0', 'w1'],
    );
    // Every other method reaches the store unchanged.
    await gated.destroy();
    assert.equal(store.members.size, 0);
  });

  it('lets a reader (no self) through whatever the clock says', async () => {
    const store = new MemoryStore();
    await store.beat({ nodeId: 'w0', weight: 1 });
    const gated = gateMembership(store, { skewed: true });
    assert.deepEqual(
      (await gated.beat(null, 800)).map((m) => m.nodeId),
      ['w0'],
    );
  });
});
