/**
 * bench/storage — the embedded event log (segment files, fdatasync per group commit):
 *  - 1 show, 1 writer: one append in flight at a time, like one show actor;
 *  - N shows (default 1,000), one writer each, all at once: what group commit across shows buys.
 * Each append is one batch of `--events` small events. Prints a table and writes
 * bench/results/storage.json. The command line is run.ts.
 *
 * The parent directory should be on the disk you care about: a tmpfs makes fdatasync free.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { ShowEvent } from '../../src/actors/types.ts';
import { FileEventLog } from '../../src/persistence/file-event-log.ts';
import { Histogram } from '../../testkit/histogram.ts';
import { writeResults } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';

const logger = pino({ level: 'silent' });

export interface StorageBenchOptions {
  seconds: number;
  /** Shows (one writer each) of the second scenario. */
  shows: number;
  /** Events per appended batch. */
  events: number;
  /** Parent directory of the log (default the system's temporary directory). */
  dir?: string | undefined;
}

interface Result {
  scenario: string;
  shows: number;
  appends: number;
  appendsPerSec: number;
  eventsPerSec: number;
  fsyncs: number;
  appendsPerFsync: number;
  p50Ms: number;
  p99Ms: number;
  mbPerSec: number;
}

export async function run(opts: StorageBenchOptions): Promise<void> {
  const { seconds: SECONDS, shows: SHOWS, events: EVENTS } = opts;
  const PARENT = opts.dir ?? tmpdir();

  function events(v: number): ShowEvent[] {
    return Array.from({ length: EVENTS }, (_, i) => ({
      type: 'SeatsHeld',
      holdId: `h-${v}-${i}`,
      seats: [i * 2, i * 2 + 1],
      createdAt: 1_760_000_000_000,
      expiresAt: 1_760_000_600_000,
      customerId: 'c-123',
    }));
  }

  async function scenario(name: string, shows: number): Promise<Result> {
    const dir = await mkdtemp(join(PARENT, 'seats-bench-'));
    const log = await FileEventLog.open(join(dir, 'log'), { logger });
    const latency = new Histogram();
    const deadline = performance.now() + SECONDS * 1000;
    let appends = 0;
    const writer = async (showId: string): Promise<void> => {
      let last = 0;
      for (let v = 1; performance.now() < deadline; v++) {
        const t0 = performance.now();
        last = await log.append(showId, { batchId: `${showId}-${v}`, firstVersion: v * EVENTS, events: events(v) }, last);
        latency.recordMs(performance.now() - t0);
        appends++;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: shows }, (_, i) => writer(`show-${i}`)));
    const seconds = (performance.now() - started) / 1000;
    const { groups, bytes } = log.stats;
    await log.close();
    await rm(dir, { recursive: true, force: true });
    return {
      scenario: name,
      shows,
      appends,
      appendsPerSec: appends / seconds,
      eventsPerSec: (appends * EVENTS) / seconds,
      fsyncs: groups,
      appendsPerFsync: appends / Math.max(1, groups),
      p50Ms: latency.quantileMs(0.5),
      p99Ms: latency.quantileMs(0.99),
      mbPerSec: bytes / 1e6 / seconds,
    };
  }

  const results = [await scenario('1 show, 1 writer', 1), await scenario(`${SHOWS} shows, ${SHOWS} writers`, SHOWS)];

  process.stdout.write(
    `${renderTable(
      ['scenario', 'appends/s', 'events/s', 'fsyncs', 'appends/fsync', 'p50 ms', 'p99 ms', 'MB/s'],
      results.map((r) => [
        r.scenario,
        formatNumber(r.appendsPerSec),
        formatNumber(r.eventsPerSec),
        r.fsyncs,
        formatNumber(r.appendsPerFsync, 1),
        formatNumber(r.p50Ms, 2),
        formatNumber(r.p99Ms, 2),
        formatNumber(r.mbPerSec, 1),
      ]),
    )}\n`,
  );
  const path = writeResults('storage', {
    bench: 'storage',
    at: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    dir: PARENT,
    seconds: SECONDS,
    eventsPerAppend: EVENTS,
    results,
  });
  process.stdout.write(`wrote ${path}\n`);
}
