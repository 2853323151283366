/**
 * bench/storage/big-cancel — one command bigger than one log record on the embedded store:
 * a stadium show with `--bookings` confirmed bookings (default 150,000) is cancelled (one
 * batch: a BookingCancelled per booking + ShowCancelled), then the store is reopened and the
 * show rebuilt from its snapshot and the log. Prints a table and writes
 * bench/results/storage-big-cancel.json. The command line is run-big-cancel.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { benchShowDef } from '../../testkit/shows.ts';
import type { FileEventLog } from '../../src/persistence/file-event-log.ts';
import { openEmbeddedStorage } from '../../src/persistence/index.ts';
import { writeResults } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';
import { seatLabels } from '../../src/actors/seat-map.ts';

const SEATS_PER_ROW = 500;
const logger = pino({ level: 'silent' });

export interface BigCancelOptions {
  /** Confirmed bookings cancelled in one batch. */
  bookings: number;
  /** Parent directory of the store (default the system's temporary directory). */
  dir?: string | undefined;
}

export async function run(opts: BigCancelOptions): Promise<void> {
  const BOOKINGS = opts.bookings;
  const PARENT = opts.dir ?? tmpdir();
  const rows = Math.ceil(BOOKINGS / SEATS_PER_ROW);
  const def = benchShowDef('stadium', rows, SEATS_PER_ROW);

  const dir = await mkdtemp(join(PARENT, 'seats-big-cancel-'));
  try {
    let storage = await openEmbeddedStorage(dir, logger);
    let host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, maxBatch: 4096 });
    await host.execute(def.id, { type: 'createShow', def });
    const labels = await host.read(def.id, (s) => seatLabels(s.seatMap).slice());
    const fillStarted = performance.now();
    const CHUNK = 10_000;
    for (let from = 0; from < BOOKINGS; from += CHUNK) {
      await Promise.all(
        Array.from({ length: Math.min(CHUNK, BOOKINGS - from) }, async (_, k) => {
          const i = from + k;
          await host.execute(def.id, { type: 'hold', holdId: `h${i}`, seats: [labels[i]] });
          await host.execute(def.id, { type: 'confirm', holdId: `h${i}`, bookingId: `b${i}` });
        }),
      );
    }
    const fillMs = performance.now() - fillStarted;
    const log = storage.log as FileEventLog;
    const bytesBefore = log.stats.bytes;
    const cancelStarted = performance.now();
    const reply = await host.execute(def.id, { type: 'cancelShow', reason: 'storm' });
    const cancelMs = performance.now() - cancelStarted;
    if (reply.type !== 'cancelShow' || reply.refunds.length !== BOOKINGS) throw new Error('cancellation did not refund every booking');
    const cancelBytes = log.stats.bytes - bytesBefore;
    await host.close();
    await storage.close();

    const reopenStarted = performance.now();
    storage = await openEmbeddedStorage(dir, logger);
    const openMs = performance.now() - reopenStarted;
    host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger });
    const loadStarted = performance.now();
    const rebuilt = await host.load(def.id);
    const loadMs = performance.now() - loadStarted;
    if (rebuilt.state?.status !== 'cancelled' || rebuilt.state.counts.available !== rows * SEATS_PER_ROW)
      throw new Error('the cancellation did not come back');
    await host.close();
    await storage.close();

    const result = { bookings: BOOKINGS, fillMs, cancelMs, cancelBytes, openMs, loadMs };
    process.stdout.write(
      `${renderTable(
        ['bookings', 'cancel batch MB', 'cancel ms', 'reopen ms', 'rebuild ms'],
        [[formatNumber(BOOKINGS), formatNumber(cancelBytes / 1e6, 1), formatNumber(cancelMs), formatNumber(openMs), formatNumber(loadMs)]],
      )}\n`,
    );
    const path = writeResults('storage-big-cancel', {
      bench: 'storage-big-cancel',
      at: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      dir: PARENT,
      result,
    });
    process.stdout.write(`wrote ${path}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
