/**
 * bench/big-commands — the cancellation of a stadium on JetStream: how long the command takes
 * to commit when its events are split over several log messages, how many messages it takes,
 * how long a cold recovery of the show from the log alone takes, and the show.cancelled pages.
 *
 * NATS from BENCH_NATS_URL (default the local server); the bench makes its own stream and
 * deletes it at the end. Prints a table and writes bench/results/big-commands.json. The
 * command line is run.ts.
 */
import { randomBytes } from 'node:crypto';
import { deleteSeatStreams } from '../../testkit/seat-streams.ts';
import { connect } from 'nats';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import type { CommittedBatch } from '../../src/actors/show-actor.ts';
import { benchShowDef } from '../../testkit/shows.ts';
import { JetStreamEventLog } from '../../src/persistence/jetstream-event-log.ts';
import { MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import { DEFAULT_OUT_EVENT_MAX_BYTES, outEventsOf } from '../../src/projections/out-events.ts';
import { resultPath, writeJson } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';
import { seatLabels } from '../../src/actors/seat-map.ts';

const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const logger = pino({ level: 'silent' });

export interface BigCommandsOptions {
  rows: number;
  perRow: number;
  /** Bookings sold before the cancel (at most rows × perRow). */
  bookings: number;
}

export async function run(opts: BigCommandsOptions): Promise<void> {
  const { rows: ROWS, perRow: PER_ROW, bookings: BOOKINGS } = opts;
  if (BOOKINGS > ROWS * PER_ROW) throw new Error('more bookings than seats');
  const nc = await connect({ servers: NATS_URL });
  const stream = `BENCH_BIG_${process.pid}_${Date.now().toString(36)}`;
  const log = await JetStreamEventLog.open(nc, { logger, stream, subjectPrefix: `${stream}.events` });
  try {
    let committed: CommittedBatch | null = null;
    // Snapshots off while building: they are not what is measured.
    const host = new ActorHost({
      log,
      snapshots: new MemorySnapshotStore(),
      logger,
      maxBatch: 4096,
      snapshotEveryEvents: 1e9,
      snapshotEveryMs: 1e9,
      onCommitted: (b) => {
        if (b.events.at(-1)?.type === 'ShowCancelled') committed = { ...b };
      },
    });
    await host.execute('s', { type: 'createShow', def: benchShowDef('s', ROWS, PER_ROW) });
    const labels = await host.read('s', (s) => seatLabels(s.seatMap).slice(0, BOOKINGS));
    for (let start = 0; start < BOOKINGS; start += 10_000) {
      const ids = Array.from({ length: Math.min(10_000, BOOKINGS - start) }, (_, k) => start + k);
      await Promise.all(ids.map((i) => host.execute('s', { type: 'hold', holdId: `h${i}`, seats: [labels[i]] })));
      await Promise.all(
        ids.map((i) => host.execute('s', { type: 'confirm', holdId: `h${i}`, bookingId: `b_${randomBytes(16).toString('base64url')}` })),
      );
    }
    const subject = log.subjectOf('s');
    const jsm = await nc.jetstreamManager();
    const count = async () => (await jsm.streams.info(stream, { subjects_filter: subject })).state;
    const before = await count();

    let t = performance.now();
    await host.execute('s', { type: 'cancelShow', reason: 'storm' });
    const commitMs = performance.now() - t;
    const after = await count();
    const messages = (after.subjects?.[subject] ?? 0) - (before.subjects?.[subject] ?? 0);
    const bytes = after.bytes - before.bytes;
    await host.close();

    t = performance.now();
    const rebuilt = await new ActorHost({ log, snapshots: new MemorySnapshotStore(), logger }).load('s');
    const recoveryMs = performance.now() - t;
    if (rebuilt.state?.status !== 'cancelled') throw new Error('recovery did not see the cancellation');

    const batch = committed as CommittedBatch | null;
    if (!batch) throw new Error('no cancellation committed');
    t = performance.now();
    const pages = outEventsOf(batch, Date.now(), DEFAULT_OUT_EVENT_MAX_BYTES).filter((m) => m.event.type === 'ShowCancelled');
    const pagesMs = performance.now() - t;
    const pageBytes = pages.map((p) => Buffer.byteLength(JSON.stringify(p.event)));

    const result = {
      seats: ROWS * PER_ROW,
      bookings: BOOKINGS,
      events: batch.events.length,
      cancelCommitMs: Math.round(commitMs),
      logMessages: messages,
      logBytes: bytes,
      coldRecoveryMs: Math.round(recoveryMs),
      replayedEvents: rebuilt.replayed,
      showCancelledPages: pages.length,
      largestPageBytes: Math.max(...pageBytes),
      buildPagesMs: Math.round(pagesMs),
    };
    console.log(
      renderTable(
        ['measure', 'value'],
        Object.entries(result).map(([k, v]) => [k, formatNumber(v)]),
      ),
    );
    console.log(`\nwrote ${writeJson(resultPath('big-commands'), { at: new Date().toISOString(), ...result })}`);
  } finally {
    await log.close();
    await deleteSeatStreams(nc, stream);
    await nc.close();
  }
}
