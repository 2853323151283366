import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { openStorage } from '../../src/persistence/index.ts';
import { needServices } from '../../testkit/services.ts';
import { openDurableStorage } from '../../src/persistence/durable-storage.ts';
import { connectTestNats, durableTestEnv, testLogger } from './support.ts';

const skip = await needServices('postgres', 'nats');

describe('choosing the durable storage', () => {
  it('refuses NATS_URL without DATABASE_URL (and the reverse) instead of running on something else', async () => {
    for (const env of [{ NATS_URL: 'nats://127.0.0.1:4222' }, { DATABASE_URL: 'postgres://postgres@127.0.0.1/x' }]) {
      await assert.rejects(openStorage(loadConfig(env), testLogger), ConfigError);
    }
  });

  it('opens every port on JetStream and Postgres, and closes the connections', { skip }, async () => {
    const env = await durableTestEnv('open');
    try {
      const storage = await openDurableStorage(env.config, testLogger, env.options);
      assert.equal(storage.kind, 'durable');
      assert.ok(storage.bookings);
      const nc = await connectTestNats();
      const info = await (await nc.jetstreamManager()).streams.info(env.stream);
      assert.deepEqual(info.config.subjects, [`${env.eventSubjectPrefix}.>`]);
      await nc.close();
      await storage.close();
      await storage.close();
      await assert.rejects(storage.snapshots.load('x'), { code: 'UNAVAILABLE' });
    } finally {
      await env.cleanup();
    }
  });
});
