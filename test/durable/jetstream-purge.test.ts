import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { serializeState } from '../../src/actors/state-codec.ts';
import { ReplicaFollower } from '../../src/cluster/replica-follower.ts';
import { StaticPlacement } from '../../src/cluster/static-placement.ts';
import { openDurableStorage } from '../../src/persistence/durable-storage.ts';
import type { Storage } from '../../src/persistence/index.ts';
import type { JetStreamEventLog } from '../../src/persistence/jetstream-event-log.ts';
import { SeatError } from '../../src/errors.ts';
import { showDef } from '../../testkit/shows.ts';
import { needServices } from '../../testkit/services.ts';
import { connectTestNats, durableTestEnv, eventually, testLogger as logger, type DurableTestEnv } from './support.ts';
import { seatLabels } from '../../src/actors/seat-map.ts';

const skip = await needServices('postgres', 'nats');

describe('the log of a show is purged below its snapshots', { skip }, () => {
  let env: DurableTestEnv;
  let storage: Storage;
  const SNAPSHOT_EVERY = 40;
  const HOLDS = 300;

  before(async () => {
    env = await durableTestEnv('purge');
    storage = await openDurableStorage(env.config, logger, env.options);
  });
  after(async () => {
    await storage?.close();
    await env?.cleanup();
  });

  async function subjectMessages(showId: string): Promise<number> {
    const log = storage.log as JetStreamEventLog;
    const nc = await connectTestNats();
    try {
      const jsm = await nc.jetstreamManager();
      const subject = log.subjectOf(showId);
      const info = await jsm.streams.info(env.stream, { subjects_filter: subject });
      return info.state.subjects?.[subject] ?? 0;
    } finally {
      await nc.close();
    }
  }

  it('drops entries below the previous snapshot; recovery and a replica still rebuild the show', async () => {
    const host = new ActorHost({
      log: storage.log,
      snapshots: storage.snapshots,
      logger,
      snapshotEveryEvents: SNAPSHOT_EVERY,
      snapshotEveryMs: 3_600_000,
    });
    await host.execute('p', { type: 'createShow', def: showDef('p', 20, 20) });
    const labels = await host.read('p', (s) => seatLabels(s.seatMap).slice());
    // One command per entry, so the log has an entry per hold.
    for (let i = 0; i < HOLDS; i++) await host.execute('p', { type: 'hold', holdId: `h${i}`, seats: [labels[i]] });
    await host.snapshot('p');
    // A few more entries after the last snapshot: the tail a restart must replay.
    for (let i = HOLDS; i < HOLDS + 5; i++) await host.execute('p', { type: 'hold', holdId: `h${i}`, seats: [labels[i]] });
    const live = await host.read('p', (s) => serializeState(s));

    const messages = await subjectMessages('p');
    const snapshot = await storage.snapshots.load('p');
    assert.ok(snapshot && snapshot.logSeq < live.logSeq);
    assert.ok(messages < (HOLDS + 1) / 2, `${messages} of ${HOLDS + 6} entries left`);
    assert.ok(messages >= 6, 'the tail after the newest snapshot stays');

    // A reader starting below the purge is told so instead of getting a tail with a hole.
    await assert.rejects(
      async () => {
        for await (const _ of storage.log.read('p', 2)) void _;
      },
      (err: unknown) => err instanceof SeatError && err.code === 'UNAVAILABLE',
    );

    // A restart (a new process on the same storage, without the old one's last snapshot): snapshot + tail.
    const restarted = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger });
    const loaded = await restarted.load('p');
    assert.ok(loaded.state);
    assert.deepEqual(serializeState(loaded.state), live);

    // A replica bootstraps from the same snapshot and tail.
    const nc = await connectTestNats();
    const follower = new ReplicaFollower({
      nc,
      log: storage.log,
      stream: env.stream,
      subjectPrefix: env.eventSubjectPrefix,
      snapshots: storage.snapshots,
      placement: new StaticPlacement('replica', ['owner', 'replica']),
      logger,
    });
    try {
      await follower.start();
      await eventually(() => follower.peek('p', () => true), 10_000, 'the replica copy');
      assert.deepEqual(
        follower.peek('p', (c) => serializeState(c.state)),
        live,
      );
    } finally {
      await follower.close();
      await nc.close();
    }

    // The next writer is still fenced on the right position and appends.
    const next = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger });
    const reply = await next.execute('p', { type: 'hold', holdId: 'after-purge', seats: [labels[HOLDS + 10]] });
    assert.equal(reply.type, 'hold');
    await next.close();
  });
});

describe('a stream created before compaction (deny_purge) is left whole', { skip }, () => {
  it('opens, keeps every entry, and snapshots without errors', async () => {
    const env = await durableTestEnv('nopurge');
    const nc = await connectTestNats();
    try {
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: env.stream, subjects: [`${env.eventSubjectPrefix}.>`], deny_purge: true, deny_delete: true });
      const storage = await openDurableStorage(env.config, logger, env.options);
      try {
        const log = storage.log as JetStreamEventLog;
        assert.equal(log.compacts, false);
        const host = new ActorHost({
          log: storage.log,
          snapshots: storage.snapshots,
          logger,
          snapshotEveryEvents: 5,
          snapshotEveryMs: 3_600_000,
        });
        await host.execute('np', { type: 'createShow', def: showDef('np', 2, 10) });
        for (let i = 1; i <= 12; i++)
          await host.execute('np', { type: 'hold', holdId: `h${i}`, seats: [i <= 10 ? `A-${i}` : `B-${i - 10}`] });
        await host.snapshot('np');
        assert.equal(await log.purgeBelow('np', await log.lastSeq('np')), 0);
        let entries = 0;
        for await (const _ of storage.log.read('np', 0)) entries++;
        assert.equal(entries, 13);
        await host.close();
      } finally {
        await storage.close();
      }
    } finally {
      await nc.close();
      await env.cleanup();
    }
  });
});
