/**
 * bench/reports — what the theatre's two reads cost on a stadium: the report (kept counters,
 * so it should not grow with the show) and one seat's history (a replay of the show's whole
 * log on the owner). Memory storage: the replay's CPU, not the disk or JetStream.
 *
 * Every hold takes 4 seats; every other one is confirmed, the rest released, so the log holds
 * about 2 × holds events. Prints a table and writes bench/results/reports.json. The command
 * line is run.ts.
 */
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { showReport } from '../../src/actors/report.ts';
import { seatLabels } from '../../src/actors/seat-map.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { readSeatHistory } from '../../src/service/seat-history-reader.ts';
import { resultPath, writeJson } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';
import { benchShowDef } from '../../testkit/shows.ts';

const REPORTS = 1_000;
const logger = pino({ level: 'silent' });

export interface ReportsBenchOptions {
  rows: number;
  perRow: number;
  /** Holds of 4 seats each, every other one confirmed. */
  holds: number;
}

export async function run(opts: ReportsBenchOptions): Promise<void> {
  const { rows: ROWS, perRow: PER_ROW, holds: HOLDS } = opts;
  const storage = openMemoryStorage(logger);
  const host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, snapshotEveryEvents: 1e9, snapshotEveryMs: 1e9 });
  const def = benchShowDef('big', ROWS, PER_ROW);
  await host.execute('big', { type: 'createShow', def });
  const labels = await host.read('big', (s) => seatLabels(s.seatMap));
  const groups = Math.floor(labels.length / 4);
  if (HOLDS > groups * 8) throw new Error('too many holds for the seats');
  // Each group of 4 seats is held over and over (released ones again), so seat 0 has a long history.
  const pending: Array<Promise<unknown>> = [];
  const groupsUsed = Math.min(groups, Math.ceil(HOLDS / 2));
  for (let i = 0; i < HOLDS; i++) {
    const g = i % groupsUsed;
    const seats = labels.slice(g * 4, g * 4 + 4);
    const holdId = `h${i}`;
    const confirm = i >= HOLDS - groupsUsed;
    pending.push(
      host
        .execute('big', { type: 'hold', holdId, seats })
        .then(() => host.execute('big', confirm ? { type: 'confirm', holdId, bookingId: `b${i}` } : { type: 'release', holdId })),
    );
    // At most one hold per group in flight: a group held twice at once is refused.
    if (pending.length >= Math.min(512, groupsUsed)) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const events = await host.read('big', (s) => s.version);

  let t = performance.now();
  for (let i = 0; i < REPORTS; i++) await host.read('big', showReport);
  const reportMs = (performance.now() - t) / REPORTS;

  t = performance.now();
  const history = await readSeatHistory({ log: storage.log, snapshots: storage.snapshots }, 'big', labels[0]);
  const historyMs = performance.now() - t;
  // The same log replayed by a recovery, for comparison.
  t = performance.now();
  await host.load('big');
  const recoveryMs = performance.now() - t;
  await host.close();

  const result = {
    seats: labels.length,
    events,
    reportMs,
    historyMs,
    recoveryMs,
    historyEntries: history.history.length,
    eventsPerSecond: events / (historyMs / 1000),
  };
  console.log(
    renderTable(
      ['seats', 'events in log', 'report (ms)', 'seat history (ms)', 'entries', 'replay (events/s)', 'recovery replay (ms)'],
      [
        [
          formatNumber(result.seats),
          formatNumber(events),
          formatNumber(reportMs, 3),
          formatNumber(historyMs),
          history.history.length,
          formatNumber(result.eventsPerSecond),
          formatNumber(recoveryMs),
        ],
      ],
    ),
  );
  console.log(
    `wrote ${writeJson(resultPath('reports'), { at: new Date().toISOString(), rows: ROWS, perRow: PER_ROW, holds: HOLDS, ...result })}`,
  );
}
