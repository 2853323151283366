import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ActorHost } from '../../src/actors/actor-host.ts';
import type { ShowSummary } from '../../src/actors/views.ts';
import { loadConfig } from '../../src/config.ts';
import { FileEventLog } from '../../src/persistence/file-event-log.ts';
import { FileSnapshotStore } from '../../src/persistence/file-snapshot-store.ts';
import { openEmbeddedStorage, openStorage } from '../../src/persistence/index.ts';
import { showDef } from '../../testkit/shows.ts';
import { runEventLogConformance, runSnapshotStoreConformance } from './conformance.ts';
import { silentLogger, tempDir } from './temp-dir.ts';

runEventLogConformance('file', async () => {
  const dir = await tempDir();
  const path = join(dir.path, 'log');
  let log = await FileEventLog.open(path, { logger: silentLogger });
  return {
    log,
    reopen: async () => {
      await log.close();
      return (log = await FileEventLog.open(path, { logger: silentLogger }));
    },
    cleanup: async () => {
      await log.close();
      await dir.remove();
    },
  };
});

runSnapshotStoreConformance('file', async () => {
  const dir = await tempDir();
  let store = await FileSnapshotStore.open(dir.path, silentLogger);
  return {
    store,
    reopen: async () => {
      await store.close();
      return (store = await FileSnapshotStore.open(dir.path, silentLogger));
    },
    cleanup: async () => {
      await store.close();
      await dir.remove();
    },
  };
});

describe('embedded storage', () => {
  let dir: { path: string; remove(): Promise<void> };
  before(async () => {
    dir = await tempDir();
  });
  after(() => dir.remove());

  it('is what openStorage gives without NATS_URL and DATABASE_URL', async () => {
    const storage = await openStorage(loadConfig({ DATA_DIR: join(dir.path, 'by-config') }), silentLogger);
    try {
      assert.equal(storage.kind, 'embedded');
    } finally {
      await storage.close();
    }
  });

  it('reads the embedded log settings, and refuses a malformed truncate permission', () => {
    const config = loadConfig({ EVENT_LOG_SEGMENT_BYTES: '1048576', EVENT_LOG_TRUNCATE_AT: 'events-000003.log:4096' });
    assert.equal(config.eventLogSegmentBytes, 1_048_576);
    assert.deepEqual(config.eventLogTruncateAt, { file: 'events-000003.log', offset: 4096 });
    assert.equal(loadConfig({}).eventLogTruncateAt, undefined);
    assert.throws(
      () => loadConfig({ EVENT_LOG_TRUNCATE_AT: '../etc/passwd:1' }),
      (err: Error) => err.name === 'ConfigError',
    );
  });

  it('keeps log, snapshots and catalog across a restart', async () => {
    const dataDir = join(dir.path, 'restart');
    const def = showDef('s-restart');
    let storage = await openEmbeddedStorage(dataDir, silentLogger);
    const seq = await storage.log.append(
      def.id,
      { batchId: 'b1', firstVersion: 1, events: [{ type: 'ShowCreated', def, blocked: [], at: 1 }] },
      0,
    );
    await storage.snapshots.save({ showId: def.id, version: 1, logSeq: seq, state: { any: 'thing' } });
    const summary: ShowSummary = {
      id: def.id,
      title: def.title,
      city: def.city,
      venue: def.venue,
      startsAt: def.startsAt,
      status: 'scheduled',
      version: 1,
      capacity: 20,
      available: 20,
    };
    await storage.catalog.upsert(summary);
    await storage.close();

    storage = await openEmbeddedStorage(dataDir, silentLogger);
    try {
      assert.equal(await storage.log.lastSeq(def.id), seq);
      assert.equal((await storage.snapshots.load(def.id))?.logSeq, seq);
      assert.deepEqual(await storage.catalog.list({ city: 'pune' }), [summary]);
    } finally {
      await storage.close();
    }
  });

  it('brings a show back with its holds after a restart (actor host on top)', async () => {
    const dataDir = join(dir.path, 'actors');
    const def = showDef('s-actors');
    let storage = await openEmbeddedStorage(dataDir, silentLogger);
    let host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger: silentLogger, snapshotEveryEvents: 2 });
    await host.execute(def.id, { type: 'createShow', def });
    await host.execute(def.id, { type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2'] });
    await host.execute(def.id, { type: 'hold', holdId: 'h2', seats: ['B-1'] });
    await host.close();
    await storage.close();

    storage = await openEmbeddedStorage(dataDir, silentLogger);
    host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger: silentLogger });
    try {
      const held = await host.read(def.id, (s) => ({ holds: [...s.holds.keys()].sort(), version: s.version }));
      assert.deepEqual(held, { holds: ['h1', 'h2'], version: 3 });
      await host.execute(def.id, { type: 'release', holdId: 'h1' });
      assert.equal(await host.read(def.id, (s) => s.counts.held), 1);
    } finally {
      await host.close();
      await storage.close();
    }
  });

  it('keeps the log flat over a long run: snapshots free segments without any manual step', async () => {
    const dataDir = join(dir.path, 'flat');
    const segments = async () => (await readdir(dataDir)).filter((n) => /^events-\d+\.log$/.test(n));
    let storage = await openEmbeddedStorage(dataDir, silentLogger, { segmentBytes: 32 * 1024 });
    let host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger: silentLogger, snapshotEveryEvents: 100 });
    const shows = ['flat-a', 'flat-b'];
    for (const id of shows) await host.execute(id, { type: 'createShow', def: showDef(id) });
    let most = 0;
    for (let round = 0; round < 300; round++) {
      for (const id of shows) {
        await host.execute(id, { type: 'hold', holdId: `h${round}`, seats: ['A-1', 'A-2'] });
        await host.execute(id, { type: 'release', holdId: `h${round}` });
      }
      if (round % 25 === 0) most = Math.max(most, (await segments()).length);
    }
    const log = storage.log as FileEventLog;
    assert.ok(log.stats.segmentsDeleted > 5, `old segments were deleted along the way (${log.stats.segmentsDeleted})`);
    assert.ok(most <= 4, `segments on disk stayed few (${most})`);
    assert.ok(log.stats.indexedBatches < 500, `the index stayed small (${log.stats.indexedBatches} of 1202 batches)`);
    await host.execute('flat-a', { type: 'hold', holdId: 'last', seats: ['B-1'] });
    await host.close();
    await storage.close();

    storage = await openEmbeddedStorage(dataDir, silentLogger, { segmentBytes: 32 * 1024 });
    host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger: silentLogger });
    try {
      assert.deepEqual(await host.read('flat-a', (s) => ({ version: s.version, holds: [...s.holds.keys()] })), {
        version: 602,
        holds: ['last'],
      });
      assert.equal(await host.read('flat-b', (s) => s.version), 601);
    } finally {
      await host.close();
      await storage.close();
    }
  });

  it('refuses a second opener of the same data dir while the first is open', async () => {
    const dataDir = join(dir.path, 'locked');
    const first = await openEmbeddedStorage(dataDir, silentLogger);
    await assert.rejects(
      openEmbeddedStorage(dataDir, silentLogger),
      (err: unknown) => (err as { code?: string }).code === 'DATA_DIR_LOCKED',
    );
    await first.close();
    const again = await openEmbeddedStorage(dataDir, silentLogger);
    await again.close();
  });

  it('refuses a lock held by another live process, takes over one whose process is gone', async () => {
    const dataDir = join(dir.path, 'stale');
    await (await openEmbeddedStorage(dataDir, silentLogger)).close();
    const dead = spawnSync(process.execPath, ['-e', '']).pid as number;
    await writeFile(join(dataDir, 'LOCK'), `${dead}\n`);
    const storage = await openEmbeddedStorage(dataDir, silentLogger);
    await storage.close();

    // Our own pid, but not taken by this process: an earlier process with the same pid
    // (a container restarted after a crash) left it.
    await writeFile(join(dataDir, 'LOCK'), `${process.pid}\n`);
    await (await openEmbeddedStorage(dataDir, silentLogger)).close();

    // The parent of this test process is alive and is not us.
    await writeFile(join(dataDir, 'LOCK'), `${process.ppid}\n`);
    await assert.rejects(
      openEmbeddedStorage(dataDir, silentLogger),
      (err: unknown) => (err as { code?: string }).code === 'DATA_DIR_LOCKED',
    );
  });
});
