import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import type { CommittedBatch } from '../../src/actors/show-actor.ts';
import { serializeState } from '../../src/actors/state-codec.ts';
import type { CommandReply } from '../../src/actors/types.ts';
import { ErrorCode, type SeatError } from '../../src/errors.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import type { AppendBatch } from '../../src/core/ports.ts';
import { checkAccounting } from '../support/core.ts';
import { FaultyLog, type AppendStep } from '../support/faulty-log.ts';
import { showDef } from '../../testkit/shows.ts';
import { until } from '../../testkit/wait.ts';

const logger = pino({ level: 'silent' });
const DEPTH = 4;
const FAILING_HOLD = 2;

function deferred(): { promise: Promise<void>; release: () => void } {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

type Settled = { ok: true; reply: CommandReply } | { ok: false; err: SeatError };
const settle = (p: Promise<CommandReply>): Promise<Settled> =>
  p.then(
    (reply) => ({ ok: true as const, reply }),
    (err: SeatError) => ({ ok: false as const, err }),
  );

describe('pipelined commits', () => {
  // 'predicted': the log tells seqs at once, so the batches behind the failing one are
  // written (fenced on its seq) while its answer is lost; the actor must fail them all the
  // same. 'chained': the log tells a seq only when it acknowledges the append (JetStream), so
  // the next batch goes out once the one before is acknowledged, while that one still writes
  // its booking rows (beforeReply); here that write fails after the batches behind it landed.
  for (const mode of ['predicted', 'chained'] as const) {
    it(`a commit failing mid-pipeline fails every later batch, loses nothing acknowledged, and the show goes on (${mode})`, async () => {
      const storage = openMemoryStorage(logger);
      const gates = new Map<number, ReturnType<typeof deferred>>();
      const holdNumber = (batch: { events: AppendBatch['events'] }): number => {
        const first = batch.events[0];
        return first?.type === 'SeatsHeld' ? Number(first.holdId.slice(1)) : 0;
      };
      // h1..h4 (one hold a batch) wait for the test, at the append ('predicted') or at the
      // booking write before the answer ('chained'); h2's fails there.
      const gateOf = (n: number): AppendStep => {
        if (!(n >= 1 && n <= DEPTH) || gates.has(n)) return {};
        const gate = deferred();
        gates.set(n, gate);
        return { wait: gate.promise, ...(n === FAILING_HOLD ? { fail: 'after-write' as const } : {}) };
      };
      const log = new FaultyLog(storage.log, (_n, batch) => (mode === 'predicted' ? gateOf(holdNumber(batch)) : {}), mode === 'predicted');
      const beforeReply =
        mode === 'chained'
          ? async (batch: CommittedBatch) => {
              const step = gateOf(holdNumber(batch));
              await step.wait;
              if (step.fail) throw new Error('booking rows not written');
            }
          : undefined;
      const commits: CommittedBatch[] = [];
      const host = new ActorHost({
        log,
        snapshots: storage.snapshots,
        logger,
        maxBatch: 1,
        pipelineDepth: DEPTH,
        onCommitted: (b) => commits.push({ ...b, events: [...b.events] }),
        ...(beforeReply ? { beforeReply } : {}),
      });
      const show = `pipe-${mode}`;
      await host.execute(show, { type: 'createShow', def: showDef(show, 2, 10) });

      const holds = Array.from({ length: 8 }, (_, i) =>
        settle(host.execute(show, { type: 'hold', holdId: `h${i + 1}`, seats: [`A-${i + 1}`] })),
      );
      // Four batches decided and in flight, four commands waiting behind them.
      await until(() => host.actorLoad(show)?.mailbox === DEPTH, 5_000, 'a full pipeline');
      assert.equal(log.calls, 1 + DEPTH, 'every batch in flight reached the log');

      // A read now sees committed state only: none of the holds in flight.
      const read = host.read(show, (s) => [...s.holds.keys()]);
      gates.get(1)?.release();
      assert.deepEqual(await read, ['h1'], 'a read sees the first batch once committed, nothing decided after it');

      // h1's commit freed a slot: h5 is decided too. h2's batch fails; h3..h5 (decided on its
      // state) fail with it, whatever the log did with them.
      await until(() => gates.has(FAILING_HOLD) && host.actorLoad(show)?.mailbox === 3, 5_000, "h2's append, h5 decided");
      for (let n = FAILING_HOLD; n <= DEPTH; n++) gates.get(n)?.release();
      const results = await Promise.all(holds);

      assert.ok(results[0]?.ok, 'h1 committed before the failure');
      for (const i of [1, 2, 3, 4]) {
        const r = results[i] as Settled;
        assert.ok(!r.ok, `h${i + 1} failed with the batch before it`);
        assert.equal(r.err.code, ErrorCode.UNAVAILABLE, `h${i + 1} is told to retry`);
      }
      // The commands still in the mailbox were never decided: resent once to a fresh actor.
      for (const i of [5, 6, 7]) assert.ok(results[i]?.ok, `h${i + 1} answered by the rebuilt show`);

      const acknowledged = results.flatMap((r, i) => (r.ok ? [`h${i + 1}`] : []));
      const inLog = new Set<string>();
      for await (const entry of storage.log.read(show, 0)) for (const e of entry.events) if (e.type === 'SeatsHeld') inLog.add(e.holdId);
      for (const id of acknowledged) assert.ok(inLog.has(id), `acknowledged ${id} is in the log`);
      // Told to retry, though written: a retry with the same key finds them (nothing happens twice).
      for (const id of ['h2', 'h3', 'h4', 'h5']) assert.ok(inLog.has(id), `${id} reached the log`);

      // Listeners saw each committed batch once, in log order; none of the failed ones.
      const seqs = commits.map((c) => c.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        'commits in log order',
      );
      assert.equal(new Set(seqs).size, seqs.length, 'each commit once');
      const heard = commits.flatMap((c) => c.events.flatMap((e) => (e.type === 'SeatsHeld' ? [e.holdId] : [])));
      for (const id of ['h2', 'h3', 'h4', 'h5']) assert.ok(!heard.includes(id), `listeners never saw failed ${id}`);

      // The rebuilt show serves, and its state is exactly the log's.
      const held = await host.execute(show, { type: 'hold', holdId: 'after', seats: ['B-1'] });
      assert.equal(held.type, 'hold');
      const confirmed = await host.execute(show, { type: 'confirm', holdId: 'after', bookingId: 'b-after' });
      assert.equal(confirmed.type, 'confirm');
      const live = await host.read(show, (s) => {
        checkAccounting(s);
        return serializeState(s);
      });
      await host.close();
      const rebuilt = await new ActorHost({ log: storage.log, snapshots: openMemoryStorage(logger).snapshots, logger }).load(show);
      assert.deepEqual(serializeState(rebuilt.state!), live);
    });
  }
});
