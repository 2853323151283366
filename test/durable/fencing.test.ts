import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { serializeState } from '../../src/actors/state-codec.ts';
import type { CommandReply } from '../../src/actors/types.ts';
import type { JetStreamEventLog } from '../../src/persistence/jetstream-event-log.ts';
import { MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import { checkAccounting } from '../support/core.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { createShowCommand, testLogger, twoLogsOnOneStream } from './support.ts';

const skip = await needServices('nats');

/**
 * Two owners of one show, each with its own NATS connection and actor host, as after a
 * partition or a takeover race. JetStream's expected-last-subject-sequence must let exactly
 * one batch in per position; the other owner answers NOT_OWNER and writes nothing.
 */
describe('fencing on JetStream', { skip }, () => {
  let logs: [JetStreamEventLog, JetStreamEventLog];
  let close: () => Promise<void>;

  const host = (log: JetStreamEventLog) => new ActorHost({ log, snapshots: new MemorySnapshotStore(), logger: testLogger });
  const create = createShowCommand;

  before(async () => {
    ({ logs, close } = await twoLogsOnOneStream('fence'));
  });
  after(() => close?.());

  it('lets exactly one of two owners commit; the loser answers NOT_OWNER; the log holds the winner only', async () => {
    const showId = uniqueName('show');
    const [a, b] = [host(logs[0]), host(logs[1])];
    await a.execute(showId, create(showId));
    // Both owners are active at the same log position.
    assert.equal(await b.read(showId, (s) => s.version), 1);
    const results = await Promise.allSettled([
      a.execute(showId, { type: 'hold', holdId: 'h-a', seats: ['A-1', 'A-2'] }),
      b.execute(showId, { type: 'hold', holdId: 'h-b', seats: ['A-2', 'A-3'] }),
    ]);
    const won = results.findIndex((r) => r.status === 'fulfilled');
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one owner commits');
    const lost = results[1 - won] as PromiseRejectedResult;
    assert.equal(lost.reason.code, 'NOT_OWNER');
    const winner = [a, b][won];

    const replayed = await host(logs[0]).load(showId);
    assert.ok(replayed.state);
    checkAccounting(replayed.state);
    assert.deepEqual([...replayed.state.holds.keys()], [won === 0 ? 'h-a' : 'h-b']);
    assert.deepEqual(serializeState(replayed.state), await winner.read(showId, serializeState));

    // The loser dropped its state; its next command starts from the log and succeeds.
    const loser = [a, b][1 - won];
    await loser.execute(showId, { type: 'hold', holdId: 'h-c', seats: ['B-1'] });
    assert.deepEqual(await loser.read(showId, (s) => [...s.holds.keys()].sort()), [won === 0 ? 'h-a' : 'h-b', 'h-c'].sort());
  });

  it('keeps one history under a stream of racing commands from both owners', async () => {
    const showId = uniqueName('show');
    const owners = [host(logs[0]), host(logs[1])];
    await owners[0].execute(showId, create(showId));
    const answered = new Map<string, CommandReply>();
    const refused: string[] = [];
    let n = 0;
    for (let round = 0; round < 20; round++) {
      const cmds = owners.flatMap((o, i) =>
        [0, 1].map(() => {
          const holdId = `h-${i}-${n++}`;
          return o
            .execute(showId, { type: 'hold', holdId, count: 1 })
            .then((r) => answered.set(holdId, r))
            .catch((err: { code?: string }) => {
              if (err.code === 'NOT_OWNER' || err.code === 'SEAT_UNAVAILABLE') refused.push(holdId);
              else throw err;
            });
        }),
      );
      await Promise.all(cmds);
    }
    assert.ok(refused.length > 0, 'the owners did collide');
    const { state } = await host(logs[1]).load(showId);
    assert.ok(state);
    checkAccounting(state);
    for (const holdId of answered.keys()) assert.ok(state.holds.has(holdId), `answered ${holdId} is in the log`);
    for (const holdId of refused) assert.ok(!state.holds.has(holdId), `refused ${holdId} is not in the log`);
    assert.equal(state.holds.size, answered.size);
  });
});
