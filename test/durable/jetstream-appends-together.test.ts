import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from 'nats';
import type { ShowEvent } from '../../src/actors/types.ts';
import { JetStreamEventLog } from '../../src/persistence/jetstream-event-log.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { connectTestNats, deleteStream, testLogger } from './support.ts';

const skip = await needServices('nats');

const held = (i: number): ShowEvent => ({ type: 'HoldExpired', holdId: `h${i}`, seats: [i] });

/**
 * Appends of many shows started in one turn leave together (one socket write) and are
 * acknowledged on the log's own reply subscription: each must still get its own seq, be
 * fenced on its own show, and a refused one must fail alone.
 */
describe('appends of many shows started together', { skip }, () => {
  const id = uniqueName('jst');
  const stream = `S_${id}`;
  let nc: NatsConnection;
  let log: JetStreamEventLog;

  before(async () => {
    nc = await connectTestNats();
    log = await JetStreamEventLog.open(nc, { logger: testLogger, stream, subjectPrefix: `${id}.events`, publishTimeoutMs: 2_000 });
  });
  after(async () => {
    await log.close();
    await nc.close();
    await deleteStream(stream);
  });

  it('each gets its own seq in the log, a stale writer among them is refused NOT_OWNER, and a retried batch gets its first seq back', async () => {
    const shows = Array.from({ length: 40 }, (_, i) => `show${i}`);
    const tails = new Map<string, number>();
    for (let round = 0; round < 5; round++) {
      // Every 7th show appends with a stale expected seq (the one before its last).
      const results = await Promise.allSettled(
        shows.map((s, i) => {
          const tail = tails.get(s) ?? 0;
          const stale = round > 0 && i % 7 === 0;
          return log.append(s, { batchId: `${id}-${s}-${round}`, firstVersion: round + 1, events: [held(round)] }, stale ? tail - 1 : tail);
        }),
      );
      const seqs = new Set<number>();
      results.forEach((r, i) => {
        const s = shows[i] as string;
        if (round > 0 && i % 7 === 0) {
          assert.equal(r.status, 'rejected', `stale append of ${s} refused`);
          assert.equal((r as PromiseRejectedResult).reason.code, 'NOT_OWNER');
          return;
        }
        assert.equal(r.status, 'fulfilled', `append of ${s} in round ${round}`);
        const seq = (r as PromiseFulfilledResult<number>).value;
        assert.ok(seq > (tails.get(s) ?? 0));
        assert.ok(!seqs.has(seq), 'no two appends share a seq');
        seqs.add(seq);
        tails.set(s, seq);
      });
    }
    for (const [i, s] of shows.entries()) {
      assert.equal(await log.lastSeq(s), tails.get(s));
      const entries = [];
      for await (const e of log.read(s, 0)) entries.push(e);
      assert.equal(entries.length, i % 7 === 0 ? 1 : 5, `entries of ${s}`);
    }
    // A batch retried with its id inside the duplicate window: the first seq, nothing appended.
    const s = shows[1] as string;
    const again = await log.append(s, { batchId: `${id}-${s}-4`, firstVersion: 5, events: [held(4)] }, tails.get(s) as number);
    assert.equal(again, tails.get(s));
    assert.equal(await log.lastSeq(s), tails.get(s));
  });
});
