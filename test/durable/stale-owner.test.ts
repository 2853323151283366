import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ActorHost } from '../../src/actors/actor-host.ts';
import type { JetStreamEventLog } from '../../src/persistence/jetstream-event-log.ts';
import { MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { createShowCommand, testLogger, twoLogsOnOneStream } from './support.ts';

const skip = await needServices('nats');

/**
 * A stale owner: its actor is warm in memory while another process (a takeover during a
 * Redis outage, a second process with the same NODE_ID) writes the show. Its writes are
 * fenced by the log; its answers that write nothing must not come from its memory either.
 */
describe('answers from memory are checked against the log', { skip }, () => {
  let logs: [JetStreamEventLog, JetStreamEventLog];
  let close: () => Promise<void>;

  const host = (log: JetStreamEventLog, ownerVerifyWindowMs?: number) =>
    new ActorHost({
      log,
      snapshots: new MemorySnapshotStore(),
      logger: testLogger,
      ...(ownerVerifyWindowMs !== undefined ? { ownerVerifyWindowMs } : {}),
    });
  const create = createShowCommand;
  const codeOf = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'ok';
    } catch (err) {
      return (err as { code?: string }).code ?? String(err);
    }
  };

  before(async () => {
    ({ logs, close } = await twoLogsOnOneStream('stale'));
  });
  after(() => close?.());

  it('a stale owner answers NOT_OWNER instead of HOLD_NOT_FOUND, and reads only what the log holds', async () => {
    const showId = uniqueName('show');
    // Window 0: every answer that writes nothing is checked (the default window is 500 ms).
    const stale = host(logs[0], 0);
    const other = host(logs[1]);
    await stale.execute(showId, create(showId));
    await other.execute(showId, { type: 'hold', holdId: 'h-other', seats: ['A-1'] });

    // In the stale owner's memory h-other does not exist; the log says it does.
    assert.equal(await codeOf(stale.execute(showId, { type: 'release', holdId: 'h-other' })), 'NOT_OWNER');
    assert.equal(stale.isActive(showId), false, 'the stale actor stopped');
    // The next answer comes from a fresh load of the log.
    assert.equal(await stale.read(showId, (s) => s.holds.has('h-other')), true);

    // A read is checked the same way: the other process writes again, the read refuses.
    await other.execute(showId, { type: 'hold', holdId: 'h-other-2', seats: ['A-2'] });
    assert.equal(await codeOf(stale.read(showId, (s) => s.holds.size)), 'NOT_OWNER');
    assert.equal(await stale.read(showId, (s) => s.holds.size), 2);
    // Released through the fresh actor: the hold was there all along.
    await stale.execute(showId, { type: 'release', holdId: 'h-other' });
  });

  it('without the check (one process, no other writer) the same stale actor answers from memory', async () => {
    const showId = uniqueName('show');
    const unchecked = host(logs[0]);
    const other = host(logs[1]);
    await unchecked.execute(showId, create(showId));
    await other.execute(showId, { type: 'hold', holdId: 'h-other', seats: ['A-1'] });
    assert.equal(await codeOf(unchecked.execute(showId, { type: 'release', holdId: 'h-other' })), 'HOLD_NOT_FOUND');
  });

  it('an owner that appended within the window answers from memory without a log read', async () => {
    const showId = uniqueName('show');
    const owner = host(logs[0], 60_000);
    await owner.execute(showId, create(showId));
    await owner.execute(showId, { type: 'hold', holdId: 'h-1', seats: ['A-1'] });
    let lastSeqCalls = 0;
    const original = logs[0].lastSeq.bind(logs[0]);
    logs[0].lastSeq = async (s: string) => {
      lastSeqCalls++;
      return original(s);
    };
    try {
      assert.equal(await codeOf(owner.execute(showId, { type: 'release', holdId: 'nope' })), 'HOLD_NOT_FOUND');
      assert.equal(await owner.read(showId, (s) => s.holds.size), 1);
    } finally {
      logs[0].lastSeq = original;
    }
    assert.equal(lastSeqCalls, 0);
  });
});
