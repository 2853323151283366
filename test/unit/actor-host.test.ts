import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { openEmbeddedStorage, openMemoryStorage } from '../../src/persistence/index.ts';
import type { AppendBatch, EventLog } from '../../src/core/ports.ts';
import { createSeatNode } from '../../src/node.ts';
import { silentLogger, tempDir } from '../persistence/temp-dir.ts';
import { showDef } from '../../testkit/shows.ts';
import { until } from '../../testkit/wait.ts';

const logger = pino({ level: 'silent' });

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

  it('expires the holds of a show whose actor stopped on a failed append, with nobody touching it', async () => {
    const storage = openMemoryStorage(logger);
    let failNext = false;
    // The log fails exactly one append, as a full disk or a lost connection would.
    const log: EventLog = {
      append: (showId: string, batch: AppendBatch, expected: number) => {
        if (!failNext) return storage.log.append(showId, batch, expected);
        failNext = false;
        return Promise.reject(Object.assign(new Error('disk full'), { code: 'UNAVAILABLE' }));
      },
      read: (showId, afterSeq) => storage.log.read(showId, afterSeq),
      lastSeq: (showId) => storage.log.lastSeq(showId),
      showIds: () => storage.log.showIds(),
      close: () => storage.log.close(),
    };
    const host = new ActorHost({ log, snapshots: storage.snapshots, logger });
    await host.execute('f', { type: 'createShow', def: showDef('f') });
    await host.execute('f', { type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2'], ttlSeconds: 1 });
    failNext = true;
    await assert.rejects(host.execute('f', { type: 'hold', holdId: 'h2', seats: ['B-1'] }), { code: 'UNAVAILABLE' });
    assert.equal(host.isActive('f'), false, 'the actor stopped');
    // No command, no read: only the host's own wake-up can expire the hold.
    await until(() => host.isActive('f') && host.stats().activeHolds === 0, 10_000, 'the stopped show to wake and expire its hold');
    // The state changes before its append lands; a read waits for the append in flight.
    assert.equal(await host.read('f', (st) => st.holds.size), 0);
    const entries = [];
    for await (const e of storage.log.read('f', 0)) entries.push(...e.events);
    assert.equal(entries.at(-1)?.type, 'HoldExpired');
    await host.close();
  });

  it('expires holds after a restart of the embedded store without any touch', async () => {
    const dir = await tempDir();
    const config = { holdTokenSecret: 'x'.repeat(32), snapshotEveryEvents: 1000, snapshotEveryMs: 60_000 };
    try {
      let node = createSeatNode(config, await openEmbeddedStorage(dir.path, silentLogger), silentLogger);
      await node.host.execute('r', { type: 'createShow', def: showDef('r') });
      await node.host.execute('r', { type: 'hold', holdId: 'h1', seats: ['A-1'], ttlSeconds: 1 });
      const before = await node.storage.log.lastSeq('r');
      await node.close();

      node = createSeatNode(config, await openEmbeddedStorage(dir.path, silentLogger), silentLogger);
      try {
        await until(
          () => node.host.isActive('r') && node.host.stats().activeHolds === 0,
          10_000,
          'the held show to come back and expire its hold',
        );
        // The state changes before its append lands; a read waits for the append in flight.
        assert.equal(await node.host.read('r', (st) => st.holds.size), 0);
        const after = [];
        for await (const e of node.storage.log.read('r', before)) after.push(...e.events);
        assert.deepEqual(
          after.map((e) => e.type),
          ['HoldExpired'],
          'the expiry was committed',
        );
      } finally {
        await node.close();
      }
    } finally {
      await dir.remove();
    }
  });
});
