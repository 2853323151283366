/**
 * bench/pipeline — pipelined commits: holds/s with PIPELINE_DEPTH 1 (decide the next batch only
 * after the last one committed) against depth N, side by side in one run, on the durable
 * storage (JetStream log + Postgres) and the embedded one (file log), through the seat
 * service as bench/durable drives it. JetStream tells a batch's seq only when it acknowledges
 * it, so a show's next append waits for that; the file log tells it at once.
 *
 * Workloads: hold→release pairs (holds only touch the log) and hold→confirm pairs (a confirm
 * also waits for its booking row in Postgres), from `--inflight` concurrent clients, on one
 * hot show and spread over `--shows` shows of 500 seats. Depths run interleaved, `--repeat`
 * times each; the table gives the median per cell and the ratio depth N / depth 1.
 * Prints the machine's load (uptime) before and after. Writes bench/results/pipeline.json.
 * A row that throws is reported and fails the bench; the others still run. The command line
 * is run.ts.
 *
 * NATS and Postgres from BENCH_NATS_URL / BENCH_DATABASE_URL (default: the local servers);
 * the bench makes its own database and stream and removes them at the end.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createSeatNode } from '../../src/node.ts';
import { openDurableStorage, type DurableOptions } from '../../src/persistence/durable-storage.ts';
import { openEmbeddedStorage } from '../../src/persistence/embedded.ts';
import type { Storage } from '../../src/persistence/index.ts';
import { Histogram } from '../../testkit/histogram.ts';
import { median } from '../../testkit/percentile.ts';
import { createHoldPairShows, type HoldPairWorkload, runHoldPairClients } from '../../testkit/hold-pair-clients.ts';
import { deleteSeatStreamsAt } from '../../testkit/seat-streams.ts';
import type { BenchOutcome } from '../lib/cli.ts';
import { createDatabase, dropDatabase } from '../lib/pg-admin.ts';
import { Phases } from '../lib/phases.ts';
import { resultPath, writeJson } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';

export const PIPELINE_WORKLOADS = ['hold/release', 'hold/confirm'] as const satisfies readonly HoldPairWorkload[];
type Workload = (typeof PIPELINE_WORKLOADS)[number];
export const PIPELINE_STORAGES = ['durable', 'embedded'] as const;
type StorageKind = (typeof PIPELINE_STORAGES)[number];

export interface PipelineBenchOptions {
  /** Seconds of load per row. */
  seconds: number;
  /** Concurrent clients. */
  inflight: number;
  /** Shows of the spread rows (500 seats each). */
  shows: number;
  /** PIPELINE_DEPTH values, the first one the base of the ratios. */
  depths: number[];
  /** Interleaved runs of each cell. */
  repeat: number;
  workloads: Workload[];
  storages: StorageKind[];
  /** Results file (default bench/results/pipeline.json). */
  out?: string | undefined;
}

const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_DB_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const SECRET = 'bench-pipeline-secret-0123456789';
const SEATS_PER_ROW = 250;

/** This run's names on the shared Postgres and NATS. */
interface RunNames {
  dbName: string;
  stream: string;
  durableOptions: DurableOptions;
}

function runNames(): RunNames {
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  const stream = `SEATS_BENCH_PIPE_${runId}`;
  return {
    dbName: `seats_bench_pipe_${runId}`,
    stream,
    durableOptions: { stream, eventSubjectPrefix: `benchpipe_${runId}.events`, busSubjectPrefix: `benchpipe_${runId}.bus` },
  };
}

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`;
  }
}

interface Row {
  storage: StorageKind;
  workload: Workload;
  layout: 'hot show' | 'spread';
  shows: number;
  depth: number;
  round: number;
  holds: number;
  seconds: number;
  holdsPerSec: number;
  holdP50Ms: number;
  holdP99Ms: number;
  secondP99Ms: number;
}

async function openKind(kind: StorageKind, dbUrl: string, names: RunNames): Promise<{ storage: Storage; cleanup: () => Promise<void> }> {
  if (kind === 'durable')
    return {
      storage: await openDurableStorage({ natsUrl: NATS_URL, databaseUrl: dbUrl, nodeId: 'bench' }, logger, names.durableOptions),
      cleanup: async () => undefined,
    };
  const dir = await mkdtemp(join(tmpdir(), 'seats-bench-pipeline-'));
  return { storage: await openEmbeddedStorage(dir, logger), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

interface Cell {
  kind: StorageKind;
  workload: Workload;
  shows: number;
  depth: number;
  round: number;
}

/** Pairs of commands from `inflight` clients, each on its own seats, on a node with the cell's depth. */
async function load(opts: PipelineBenchOptions, cell: Cell, dbUrl: string, names: RunNames): Promise<Row> {
  const { kind, workload, shows, depth, round } = cell;
  const { seconds: SECONDS, inflight: INFLIGHT } = opts;
  const { storage, cleanup } = await openKind(kind, dbUrl, names);
  const node = createSeatNode(
    { holdTokenSecret: SECRET, snapshotEveryEvents: 5_000, snapshotEveryMs: 60_000, pipelineDepth: depth },
    storage,
    logger,
  );
  const s = node.service;
  const tag = `d${depth}-r${round}-${workload.replace('/', '-')}-${shows}-${Date.now().toString(36)}`;
  const { showIds, seatsPerShow } = await createHoldPairShows(s, tag, shows, SEATS_PER_ROW);

  const holdsHist = new Histogram();
  const second = new Histogram();
  let holds = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  await runHoldPairClients({
    service: s,
    showIds,
    workload,
    inflight: INFLIGHT,
    seatsPerShow,
    seatsPerRow: SEATS_PER_ROW,
    deadline,
    onHold: (ms) => {
      holdsHist.recordMs(ms);
      holds++;
    },
    onSecond: (ms) => second.recordMs(ms),
  });
  const elapsed = (performance.now() - started) / 1000;
  await node.close();
  await cleanup();
  return {
    storage: kind,
    workload,
    layout: shows === 1 ? 'hot show' : 'spread',
    shows,
    depth,
    round,
    holds,
    seconds: elapsed,
    holdsPerSec: holds / elapsed,
    holdP50Ms: holdsHist.quantileMs(0.5),
    holdP99Ms: holdsHist.quantileMs(0.99),
    secondP99Ms: second.quantileMs(0.99),
  };
}

export async function run(opts: PipelineBenchOptions): Promise<BenchOutcome> {
  const {
    seconds: SECONDS,
    inflight: INFLIGHT,
    shows: SHOWS,
    depths: DEPTHS,
    repeat: REPEAT,
    workloads: WORKLOADS,
    storages: STORAGES,
  } = opts;
  const phases = new Phases();
  const names = runNames();
  const needsServices = STORAGES.includes('durable');
  const loadBefore = uptime();
  process.stdout.write(`machine: ${cpus().length} cores; before: ${loadBefore}\n`);
  // The embedded rows need no database; the durable ones get one of this run's own.
  const dbUrl = needsServices ? await createDatabase(names.dbName, ADMIN_DB_URL) : '';
  const rows: Row[] = [];
  try {
    for (const kind of STORAGES)
      for (const workload of WORKLOADS)
        for (const shows of [1, SHOWS])
          for (let round = 0; round < REPEAT; round++)
            for (const depth of round % 2 ? [...DEPTHS].reverse() : DEPTHS) {
              const cell = { kind, workload, shows, depth, round };
              const row = await phases.run(
                `${kind} ${workload} ${shows === 1 ? 'hot show' : 'spread'} depth ${depth} round ${round + 1}`,
                () => load(opts, cell, dbUrl, names),
              );
              if (!row) continue;
              rows.push(row);
              process.stdout.write(
                `  ${kind} ${workload} ${row.layout} depth ${depth} round ${round + 1}: ${formatNumber(row.holdsPerSec)} holds/s, hold p99 ${row.holdP99Ms.toFixed(1)} ms\n`,
              );
            }
  } finally {
    if (needsServices) await Promise.allSettled([deleteSeatStreamsAt(NATS_URL, names.stream), dropDatabase(names.dbName, ADMIN_DB_URL)]);
  }
  const loadAfter = uptime();

  const base = DEPTHS[0] as number;
  const summary = [];
  for (const storage of STORAGES)
    for (const workload of WORKLOADS)
      for (const layout of ['hot show', 'spread'] as const)
        for (const depth of DEPTHS) {
          const same = (r: Row) => r.storage === storage && r.workload === workload && r.layout === layout;
          const cell = rows.filter((r) => same(r) && r.depth === depth);
          const baseCell = rows.filter((r) => same(r) && r.depth === base);
          if (cell.length === 0) continue; // every run of it failed (said above)
          const holdsPerSec = median(cell.map((r) => r.holdsPerSec));
          const ratios = cell.flatMap((r) => {
            const b = baseCell.find((x) => x.round === r.round);
            return b ? [r.holdsPerSec / b.holdsPerSec] : [];
          });
          summary.push({
            storage,
            workload,
            layout,
            depth,
            holdsPerSec,
            ratio: holdsPerSec / median(baseCell.map((r) => r.holdsPerSec)),
            /** Depth N / depth 1 within each round (the two ran one after the other): min..max. */
            roundRatios: ratios,
            holdP50Ms: median(cell.map((r) => r.holdP50Ms)),
            holdP99Ms: median(cell.map((r) => r.holdP99Ms)),
            secondP99Ms: median(cell.map((r) => r.secondP99Ms)),
          });
        }
  process.stdout.write(
    `\n${renderTable(
      [
        'storage',
        'workload',
        'layout',
        'depth',
        'holds/s',
        `× depth ${base}`,
        'per round',
        'hold p50 ms',
        'hold p99 ms',
        'release/confirm p99 ms',
      ],
      summary.map((r) => [
        r.storage,
        r.workload,
        r.layout,
        r.depth,
        formatNumber(r.holdsPerSec),
        r.ratio.toFixed(2),
        `${Math.min(...r.roundRatios).toFixed(2)}..${Math.max(...r.roundRatios).toFixed(2)}`,
        r.holdP50Ms.toFixed(2),
        r.holdP99Ms.toFixed(1),
        r.secondP99Ms.toFixed(1),
      ]),
    )}\n\n(median of ${REPEAT} interleaved runs of ${SECONDS} s, ${INFLIGHT} clients; spread: ${SHOWS} shows of 500 seats)\nafter: ${loadAfter}\n`,
  );
  const out = writeJson(opts.out ?? resultPath('pipeline'), {
    at: new Date().toISOString(),
    machine: { cores: cpus().length, loadBefore, loadAfter },
    settings: {
      seconds: SECONDS,
      inflight: INFLIGHT,
      shows: SHOWS,
      repeat: REPEAT,
      depths: DEPTHS,
      storages: STORAGES,
      workloads: WORKLOADS,
    },
    summary,
    runs: rows,
    failed: phases.failed,
  });
  process.stdout.write(`wrote ${out}\n`);
  return { failed: phases.failed };
}
