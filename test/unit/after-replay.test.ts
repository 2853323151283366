import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import type { ShowState } from '../../src/actors/show-state.ts';
import type { ReplayedTail } from '../../src/core/replayed-tail.ts';
import { lastVersionOf } from '../../src/core/replayed-tail.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { showDef } from '../../testkit/shows.ts';
import { until } from '../../testkit/wait.ts';

const logger = pino({ level: 'silent' });

/** A show with a snapshot after its creation and two holds in the log after it. */
async function showWithTail() {
  const storage = openMemoryStorage(logger);
  const first = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, snapshotEveryEvents: 1 });
  await first.execute('s', { type: 'createShow', def: showDef('s') });
  await until(async () => (await storage.snapshots.load('s')) !== null, 5_000, 'the first snapshot');
  const snapshotSeq = (await storage.snapshots.load('s'))!.logSeq;
  await first.close();
  const writer = new ActorHost({ log: storage.log, snapshots: openMemoryStorage(logger).snapshots, logger });
  await writer.execute('s', { type: 'hold', holdId: 'h1', seats: ['A-1'] });
  await writer.execute('s', { type: 'hold', holdId: 'h2', seats: ['A-2'] });
  await writer.close();
  return { storage, snapshotSeq };
}

describe('afterReplay', () => {
  it('gets the tail after the snapshot and is awaited before the show answers anything', async () => {
    const { storage, snapshotSeq } = await showWithTail();
    const calls: Array<{ showId: string; tail: ReplayedTail; held: number | undefined }> = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const host = new ActorHost({
      log: storage.log,
      snapshots: storage.snapshots,
      logger,
      afterReplay: async (showId, tail, state: ShowState | null) => {
        calls.push({ showId, tail, held: state?.counts.held });
        await gate;
      },
    });
    let answered = false;
    const reply = host.execute('s', { type: 'hold', holdId: 'h3', seats: ['A-3'] }).then((r) => {
      answered = true;
      return r;
    });
    await until(() => calls.length === 1, 5_000, 'the hook to run');
    // The hook has the whole tail; the command waits behind it.
    assert.equal(calls[0].showId, 's');
    assert.equal(calls[0].tail.afterSeq, snapshotSeq);
    assert.equal(calls[0].tail.warm, null);
    assert.deepEqual(
      calls[0].tail.entries.map((e) => e.events[0].type),
      ['SeatsHeld', 'SeatsHeld'],
    );
    assert.equal(lastVersionOf(calls[0].tail), 3);
    assert.equal(calls[0].held, 2);
    // Long enough for a memory-log append and its reply, had the hook not been awaited.
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(answered, false);
    release();
    assert.equal((await reply).type, 'hold');
    // An active show is not replayed again.
    await host.execute('s', { type: 'release', holdId: 'h3' });
    assert.equal(calls.length, 1);
    await host.close();
  });

  it('gets the warm copy the activation started from, and an empty tail when the copy is current', async () => {
    const { storage } = await showWithTail();
    const loader = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger });
    const copy = await loader.load('s');
    const tails: ReplayedTail[] = [];
    const host = new ActorHost({
      log: storage.log,
      snapshots: storage.snapshots,
      logger,
      afterReplay: async (_id, tail) => void tails.push(tail),
    });
    host.useWarmCopies(() => ({ state: copy.state!, seq: copy.seq }));
    await host.ensureActive('s');
    assert.equal(tails.length, 1);
    assert.equal(tails[0].warm?.seq, copy.seq);
    assert.equal(tails[0].afterSeq, copy.seq);
    assert.deepEqual(tails[0].entries, []);
    assert.equal(lastVersionOf(tails[0]), -1);
    await host.close();
  });

  it('fails the activation when the hook fails, and the next command activates afresh', async () => {
    const { storage } = await showWithTail();
    let failures = 1;
    const host = new ActorHost({
      log: storage.log,
      snapshots: storage.snapshots,
      logger,
      afterReplay: async () => {
        if (failures-- > 0) throw new Error('rows cannot be written');
      },
    });
    await assert.rejects(host.execute('s', { type: 'hold', holdId: 'h3', seats: ['A-3'] }), /rows cannot be written/);
    assert.equal(host.isActive('s'), false);
    assert.equal((await host.execute('s', { type: 'hold', holdId: 'h3', seats: ['A-3'] })).type, 'hold');
    await host.close();
  });
});
