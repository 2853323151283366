import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEdgeLimiter, DEFAULT_EDGE_LIMITS } from '../../src/gateway/limits/index.ts';
import { logger } from '../../src/logger.ts';
import { adminMetadata, call, createShow, failure, startHarness, type Client, type Harness } from './grpc-harness.ts';

/**
 * The gRPC door's limits. Other client addresses are named with `x-forwarded-for` metadata,
 * believed because 127.0.0.1 is a trusted proxy here.
 */
const GRPC_HOLDS_PER_MINUTE = 6;
const ADMIN_FAILURES = 3;
const WATCHES_PER_ADDRESS = 2;

function from(address: string, md = new grpc.Metadata()): grpc.Metadata {
  md.set('x-forwarded-for', address);
  return md;
}

/** Opens a WatchShow stream; resolves 'open' at its first message, else the failure's status and code. */
function watch(
  client: Client,
  showId: string,
  md: grpc.Metadata,
): Promise<{ stream: grpc.ClientReadableStream<unknown>; outcome: 'open' | { status: number; code: string | undefined } }> {
  const stream = client.WatchShow({ show_id: showId }, md) as grpc.ClientReadableStream<unknown>;
  return new Promise((resolve) => {
    stream.once('data', () => resolve({ stream, outcome: 'open' }));
    stream.once('error', (e: grpc.ServiceError) =>
      resolve({ stream, outcome: { status: e.code, code: e.metadata?.get('error-code')[0] as string | undefined } }),
    );
  });
}

describe('grpc: edge limits', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      limiter: createEdgeLimiter(
        { ...DEFAULT_EDGE_LIMITS, grpcHoldsPerAddressPerMinute: GRPC_HOLDS_PER_MINUTE, adminFailuresPerAddressPerMinute: ADMIN_FAILURES },
        { kind: 'memory' },
        logger,
      ),
      watchLimits: { maxWatchersPerAddress: WATCHES_PER_ADDRESS },
      trustedProxies: ['127.0.0.1'],
    });
    await createShow(h.client, 's1', 5, 20);
  });
  after(() => h.stop());

  it('holds over the limit are RESOURCE_EXHAUSTED with error-code RATE_LIMITED and retry-after; nothing is held for them', async () => {
    const md = () => from('203.0.113.1');
    const outcomes = await Promise.allSettled(
      Array.from({ length: GRPC_HOLDS_PER_MINUTE + 5 }, () => call(h.client, 'Hold', { show_id: 's1', count: 1 }, { metadata: md() })),
    );
    const ok = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    assert.equal(ok.length, GRPC_HOLDS_PER_MINUTE);
    assert.equal(refused.length, 5);
    for (const r of refused) {
      const e = r.reason as grpc.ServiceError;
      assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(e.metadata.get('error-code')[0], 'RATE_LIMITED');
      assert.ok(Number(e.metadata.get('retry-after')[0]) >= 1);
    }
    const held = (await h.node.service.getShow('s1')).seats.filter((s) => s.status === 'held').length;
    assert.equal(held, GRPC_HOLDS_PER_MINUTE);
    // Another address has its own budget.
    await call(h.client, 'Hold', { show_id: 's1', count: 1 }, { metadata: from('203.0.113.2') });
  });

  it('wrong admin tokens are throttled per address', async () => {
    const guess = (token: string) =>
      failure(call(h.client, 'CancelShow', { show_id: 's1' }, { metadata: from('192.0.2.5', adminMetadata(token)) }));
    for (let i = 0; i < ADMIN_FAILURES; i++) assert.equal((await guess(`wrong-${i}-0123456789abcdef`)).code, 'FORBIDDEN');
    const throttled = await guess('wrong-x-0123456789abcdef');
    assert.equal(throttled.status, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(throttled.code, 'RATE_LIMITED');
  });

  it('one address gets at most its share of WatchShow streams; another address still watches', async () => {
    const mine = [await watch(h.client, 's1', from('198.51.100.1')), await watch(h.client, 's1', from('198.51.100.1'))];
    assert.deepEqual(
      mine.map((w) => w.outcome),
      ['open', 'open'],
    );
    const over = await watch(h.client, 's1', from('198.51.100.1'));
    assert.deepEqual(over.outcome, { status: grpc.status.RESOURCE_EXHAUSTED, code: 'TOO_MANY_SUBSCRIPTIONS' });
    const other = await watch(h.client, 's1', from('198.51.100.2'));
    assert.equal(other.outcome, 'open');
    for (const w of [...mine, other]) w.stream.cancel();
  });
});
