import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { connectRedis } from '../../src/cluster/redis-client.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/gateway/index.ts';
import { EDGE_LIMITS_OFF } from '../../src/gateway/limits/index.ts';
import { logger } from '../../src/logger.ts';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { startCluster, type TestCluster } from '../../testkit/cluster.ts';
import { showDef } from '../../testkit/shows.ts';
import { needServices, SERVICE_URLS, uniqueName } from '../../testkit/services.ts';
import { request, showBody, TEST_ADMIN_TOKEN } from '../support/start-server.ts';

/**
 * In cluster mode the rate limits are counted in Redis, so a client spreading its requests
 * over several gateways still gets one budget. Redis going away must not take the door down.
 */
const HOLDS_PER_MINUTE = 10;

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(SERVICE_URLS.redis, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** A port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const limits = { ...EDGE_LIMITS_OFF, rateLimitHoldsPerMinute: HOLDS_PER_MINUTE };

describe('edge limits shared by two in-process gateways through Redis', { skip: await needServices('redis') }, () => {
  const prefix = uniqueName('rl').toLowerCase();
  let node: SeatNode;
  const redisClients: Redis[] = [];
  const gateways: Gateway[] = [];

  const gatewayWith = async (redis: Redis) => {
    redisClients.push(redis);
    const g = await startGateway({
      service: node.service,
      config: { port: 0, host: '127.0.0.1', grpcPort: 0, maxBodyBytes: DEFAULT_MAX_BODY_BYTES, ...limits },
      adminToken: TEST_ADMIN_TOKEN,
      logger,
      limiterStore: { kind: 'redis', redis, keyPrefix: prefix },
    });
    gateways.push(g);
    return g;
  };

  before(async () => {
    node = createSeatNode(
      { holdTokenSecret: 'rl-test-hold-token-secret-0123', snapshotEveryEvents: 100_000, snapshotEveryMs: 3_600_000 },
      openMemoryStorage(logger),
      logger,
    );
    await node.service.createShow(showDef('s1', 10, 20));
  });
  after(async () => {
    for (const g of gateways) await g.close(500);
    for (const r of redisClients) r.disconnect();
    await node.close();
    await deleteKeys(prefix);
  });

  it('one address spreading holds over two gateways gets one budget in total', async () => {
    const [a, b] = [
      await gatewayWith(connectRedis(SERVICE_URLS.redis, 500, logger)),
      await gatewayWith(connectRedis(SERVICE_URLS.redis, 500, logger)),
    ];
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        request(i % 2 ? a.url : b.url, TEST_ADMIN_TOKEN, 'POST', '/v1/shows/s1/holds', { body: { count: 1 } }),
      ),
    );
    const ok = answers.filter((r) => r.status === 201).length;
    assert.equal(ok, HOLDS_PER_MINUTE);
    assert.ok(
      answers
        .filter((r) => r.status === 429)
        .every((r) => r.body.error.code === 'RATE_LIMITED' && Number(r.headers.get('retry-after')) >= 1),
    );
    assert.equal(ok + answers.filter((r) => r.status === 429).length, 30);
    const held = (await node.service.getShow('s1')).seats.filter((s) => s.status === 'held').length;
    assert.equal(held, HOLDS_PER_MINUTE);
    // The counter lives under the cluster prefix, where the cluster's own cleanup finds it.
    const probe = new Redis(SERVICE_URLS.redis, { maxRetriesPerRequest: 1 });
    try {
      const [, keys] = await probe.scan('0', 'MATCH', `${prefix}:rl:*`, 'COUNT', 1000);
      assert.ok(keys.length > 0);
    } finally {
      probe.disconnect();
    }
  });

  it('with Redis unreachable the door stays up and the limit holds per gateway (insurance counter in memory)', async () => {
    const g = await gatewayWith(connectRedis(`redis://127.0.0.1:${await deadPort()}`, 200, logger));
    const answers = await Promise.all(
      Array.from({ length: 25 }, () => request(g.url, TEST_ADMIN_TOKEN, 'POST', '/v1/shows/s1/holds', { body: { count: 1 }, headers: {} })),
    );
    assert.equal(answers.filter((r) => r.status === 201).length, HOLDS_PER_MINUTE);
    assert.equal(answers.filter((r) => r.status === 429).length, 25 - HOLDS_PER_MINUTE);
    assert.equal((await request(g.url, TEST_ADMIN_TOKEN, 'GET', '/v1/shows/s1')).status, 200);
  });
});

describe('edge limits across the gateways of a real cluster', { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ workers: 1, gateways: 2, gatewayEnv: { RATE_LIMIT_HOLDS_PER_MINUTE: String(HOLDS_PER_MINUTE) } });
  });
  after(() => cluster?.stop());

  it('holds from one address through both gateways share one budget', async () => {
    assert.equal((await cluster.request('POST', '/v1/shows', showBody('c1', {}, 10, 20), { admin: true })).status, 201);
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) => cluster.request('POST', '/v1/shows/c1/holds', { count: 1 }, { gateway: i % 2 })),
    );
    assert.equal(answers.filter((r) => r.status === 201).length, HOLDS_PER_MINUTE);
    assert.equal(answers.filter((r) => r.status === 429 && r.body.error.code === 'RATE_LIMITED').length, 24 - HOLDS_PER_MINUTE);
    const show = (await cluster.request('GET', '/v1/shows/c1')).body as { seats: Array<{ status: string }> };
    assert.equal(show.seats.filter((s) => s.status === 'held').length, HOLDS_PER_MINUTE);
  });
});
