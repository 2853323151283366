import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { serializeState } from '../../src/actors/state-codec.ts';
import type { HoldReply, Layout } from '../../src/actors/types.ts';
import { SNAPSHOT_DIR } from '../../src/persistence/embedded.ts';
import { FileEventLog } from '../../src/persistence/file-event-log.ts';
import { FileSnapshotStore } from '../../src/persistence/file-snapshot-store.ts';
import { MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import { checkAccounting } from '../support/core.ts';
import { showDef } from '../../testkit/shows.ts';
import { silentLogger, tempDir } from './temp-dir.ts';

const SHOW = 'files';
const ROWS = 4;
const PER_ROW = 10;
const CLIENTS = 8;
const STEPS = 30;
const LIVES = 3;

/**
 * Several process lives on the files of the embedded store, a snapshot after every batch,
 * holds, extends, confirms, releases and cancels racing layout changes; each life ends without a
 * close (as a SIGKILL would) once its writes are on disk. What the next life loads (newest
 * snapshot + log tail) must be what the log alone gives.
 */
describe('snapshots on files are exact', () => {
  it('restart after restart loads the state the log alone gives', async () => {
    const dir = await tempDir('seats-snap-exact-');
    try {
      const def = showDef(SHOW, ROWS, PER_ROW, { limits: { maxSeatsPerHold: 4, holdTtlSeconds: 300, maxHoldSeconds: 900 } });
      const base = def.layout.sections[0].rows;
      const layouts: Layout[] = [
        { sections: [{ id: 'main', rows: [{ label: 'F', seats: 3, category: 'gold' }, ...base] }] },
        { sections: [{ id: 'main', rows: base }] },
      ];
      let n = 0;
      for (let life = 0; life < LIVES; life++) {
        const log = await FileEventLog.open(dir.path, { logger: silentLogger });
        // A fresh store per life, as after a restart: its first save reads the file first.
        const snapshots = await FileSnapshotStore.open(join(dir.path, SNAPSHOT_DIR), silentLogger);
        const host = new ActorHost({ log, snapshots, logger: silentLogger, snapshotEveryEvents: 1 });
        if (life === 0) await host.execute(SHOW, { type: 'createShow', def });
        const client = async (c: number) => {
          const mine: HoldReply[] = [];
          for (let i = 0; i < STEPS; i++) {
            const row = String.fromCharCode(65 + ((c + i) % ROWS));
            const seat = 1 + ((c * 3 + i * 7) % (PER_ROW - 1));
            try {
              if (c <= 1) {
                await host.execute(SHOW, { type: 'changeShow', changes: { layout: layouts[(c + i) % 2] } });
                continue;
              }
              const r = await host.execute(SHOW, { type: 'hold', holdId: `h${++n}`, seats: [`${row}-${seat}`, `${row}-${seat + 1}`] });
              if (r.type === 'hold') mine.push(r.hold);
              const h = mine[i % mine.length];
              if (!h) continue;
              const roll = (c + i) % 4;
              if (roll === 0) await host.execute(SHOW, { type: 'extendHold', holdId: h.holdId, ttlSeconds: 600 });
              else if (roll === 1) {
                await host.execute(SHOW, { type: 'confirm', holdId: h.holdId, bookingId: `b-${h.holdId}` });
                if (i % 3 === 0) await host.execute(SHOW, { type: 'cancelBookings', bookingIds: [`b-${h.holdId}`] });
              } else if (roll === 2) await host.execute(SHOW, { type: 'release', holdId: h.holdId });
            } catch {
              // seats taken, hold gone: contention, not the point here
            }
          }
        };
        await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
        // The "kill": no close, no final snapshot; only the writes already started finish.
        await snapshots.close();
        const restart = await new ActorHost({ log, snapshots, logger: silentLogger }).load(SHOW);
        const logOnly = await new ActorHost({ log, snapshots: new MemorySnapshotStore(), logger: silentLogger }).load(SHOW);
        checkAccounting(logOnly.state!);
        assert.deepEqual(
          serializeState(restart.state!),
          serializeState(logOnly.state!),
          `life ${life + 1}: the restart differs from the log`,
        );
        await log.close();
      }
    } finally {
      await dir.remove();
    }
  });
});
