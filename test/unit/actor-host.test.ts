import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { showDef } from '../support/fixtures.ts';

const logger = pino({ level: 'silent' });

/** Polls a condition until it holds or the deadline passes (a wait on a real condition, not a sleep). */
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('actor host', () => {
  it('wakes a passivated show when its first hold is due, and the hold expires', async () => {
    const storage = openMemoryStorage(logger);
    const host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger });
    await host.execute('p', { type: 'createShow', def: showDef('p') });
    await host.execute('p', { type: 'hold', holdId: 'h1', seats: ['A-1'], ttlSeconds: 1 });
    await host.passivate('p');
    assert.equal(host.isActive('p'), false);
    await until(() => host.isActive('p'), 5_000, 'the show to wake up');
    await until(() => host.stats().activeHolds === 0, 5_000, 'the hold to expire');
    assert.equal(await host.read('p', (s) => s.counts.available), 20);
    await host.close();
  });

  it('keeps no actor for a show that does not exist', async () => {
    const storage = openMemoryStorage(logger);
    const host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger });
    await assert.rejects(host.execute('nope', { type: 'hold', holdId: 'h', count: 1 }), { code: 'SHOW_NOT_FOUND' });
    assert.equal(await host.ensureActive('nope'), false);
    assert.deepEqual(host.activeShowIds, []);
    await host.close();
  });

  it('starts from a warm copy and replays only the log after it', async () => {
    const storage = openMemoryStorage(logger);
    const first = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger });
    await first.execute('w', { type: 'createShow', def: showDef('w') });
    const warm = await first.load('w');
    await first.execute('w', { type: 'hold', holdId: 'h1', seats: ['A-1'] });
    await first.close();
    const second = new ActorHost({
      log: storage.log,
      snapshots: openMemoryStorage(logger).snapshots,
      logger,
      warmState: () => ({ state: warm.state!, seq: warm.seq }),
    });
    const loaded = await second.load('w');
    assert.equal(loaded.warm, true);
    assert.equal(loaded.replayed, 1);
    assert.equal(loaded.state!.counts.held, 1);
    await second.close();
  });
});
