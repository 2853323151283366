import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openEmbeddedStorage } from '../../src/persistence/index.ts';
import { runPipelinedClients } from '../support/pipelined-clients.ts';
import { silentLogger, tempDir } from './temp-dir.ts';

const SEEDS = Number(process.env.PIPELINE_SEEDS ?? 4);

describe('pipelined commits under concurrent random clients (embedded file log)', () => {
  for (const pipelined of [true, false]) {
    it(`no seat sold twice, nothing acknowledged lost, answers in log order, reads only committed (${pipelined ? 'seqs told early' : 'appends chained'})`, async () => {
      const dir = await tempDir('seats-pipeline-');
      const storage = await openEmbeddedStorage(dir.path, silentLogger);
      try {
        let failures = 0;
        for (let seed = 101; seed < 101 + SEEDS; seed++) {
          const r = await runPipelinedClients({
            log: storage.log,
            snapshots: storage.snapshots,
            showId: `file-${pipelined}-${seed}`,
            seed,
            pipelined,
          });
          failures += r.failedAppends;
        }
        assert.ok(failures > 0, 'some appends failed on the way');
      } finally {
        await storage.close();
        await dir.remove();
      }
    });
  }
});
