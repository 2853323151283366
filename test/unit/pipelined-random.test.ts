import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryEventLog, MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import { runPipelinedClients } from '../support/pipelined-clients.ts';

const SEEDS = Number(process.env.PIPELINE_SEEDS ?? 12);

describe('pipelined commits under concurrent random clients (memory log)', () => {
  for (const pipelined of [true, false]) {
    it(`no seat sold twice, nothing acknowledged lost, answers in log order, reads only committed (${pipelined ? 'seqs told early' : 'appends chained'})`, async () => {
      let failures = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const r = await runPipelinedClients({
          log: new MemoryEventLog(),
          snapshots: new MemorySnapshotStore(),
          showId: `rand-${seed}`,
          seed,
          pipelined,
        });
        failures += r.failedAppends;
      }
      assert.ok(failures > 0, 'some appends failed on the way');
    });
  }
});
