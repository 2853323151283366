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
 *
 *   npx tsx bench/pipeline/run.ts [--seconds 3] [--inflight 64] [--shows 1000] [--depths 1,2,4]
 *                                 [--repeat 2] [--workloads hold/release,hold/confirm] [--storages durable,embedded]
 *
 * NATS and Postgres from BENCH_NATS_URL / BENCH_DATABASE_URL (default: the local servers);
 * the bench makes its own database and stream and removes them at the end.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import pg from 'pg';
import pino from 'pino';
import { createSeatNode } from '../../src/node.ts';
import { openDurableStorage, type DurableOptions } from '../../src/persistence/durable-storage.ts';
import { openEmbeddedStorage } from '../../src/persistence/embedded.ts';
import type { Storage } from '../../src/persistence/index.ts';
import { intArg, listArg, numberArg, parseCli } from '../lib/args.ts';
import { Histogram } from '../../testkit/histogram.ts';
import { resultPath, writeJson } from '../lib/results.ts';
import { benchShowInput } from '../../testkit/shows.ts';
import { formatNumber, renderTable } from '../lib/table.ts';

const args = parseCli({
  seconds: { type: 'string' },
  inflight: { type: 'string' },
  shows: { type: 'string' },
  depths: { type: 'string' },
  repeat: { type: 'string' },
  workloads: { type: 'string' },
  storages: { type: 'string' },
});
const SECONDS = numberArg(args.seconds, 'seconds', 3, 0.2);
const INFLIGHT = intArg(args.inflight, 'inflight', 64, 1);
const SHOWS = intArg(args.shows, 'shows', 1000, 2);
const REPEAT = intArg(args.repeat, 'repeat', 2, 1);
const DEPTHS = (typeof args.depths === 'string' ? args.depths : '1,2,4').split(',').map((d) => intArg(d, 'depths', 1, 1));
const WORKLOADS = listArg(args.workloads, 'workloads', ['hold/release', 'hold/confirm'] as const, ['hold/release', 'hold/confirm'] as const);
type Workload = (typeof WORKLOADS)[number];
const STORAGES = listArg(args.storages, 'storages', ['durable', 'embedded'] as const, ['durable', 'embedded'] as const);
type StorageKind = (typeof STORAGES)[number];
const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_DB_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const SECRET = 'bench-pipeline-secret-0123456789';
const SEATS_PER_ROW = 250;

const runId = `${process.pid}_${Date.now().toString(36)}`;
const dbName = `seats_bench_pipe_${runId}`;
const stream = `SEATS_BENCH_PIPE_${runId}`;
const durableOptions: DurableOptions = { stream, eventSubjectPrefix: `benchpipe_${runId}.events`, busSubjectPrefix: `benchpipe_${runId}.bus` };
const dbUrl = (() => {
  const u = new URL(ADMIN_DB_URL);
  u.pathname = `/${dbName}`;
  return u.toString();
})();

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_DB_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average: ${loadavg().map((l) => l.toFixed(2)).join(', ')}`;
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

/** Pairs of commands from INFLIGHT clients, each on its own seats, on a node with the given depth. */
async function openKind(kind: StorageKind): Promise<{ storage: Storage; cleanup: () => Promise<void> }> {
  if (kind === 'durable') return { storage: await openDurableStorage({ natsUrl: NATS_URL, databaseUrl: dbUrl, nodeId: 'bench' }, logger, durableOptions), cleanup: async () => undefined };
  const dir = await mkdtemp(join(tmpdir(), 'seats-bench-pipeline-'));
  return { storage: await openEmbeddedStorage(dir, logger), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function load(kind: StorageKind, workload: Workload, shows: number, depth: number, round: number): Promise<Row> {
  const { storage, cleanup } = await openKind(kind);
  const node = createSeatNode({ holdTokenSecret: SECRET, snapshotEveryEvents: 5_000, snapshotEveryMs: 60_000, pipelineDepth: depth }, storage, logger);
  const s = node.service;
  const tag = `d${depth}-r${round}-${workload.replace('/', '-')}-${shows}-${Date.now().toString(36)}`;
  const rowsPerShow = shows === 1 ? 800 : 2;
  const seatsPerShow = rowsPerShow * SEATS_PER_ROW;
  const showIds = Array.from({ length: shows }, (_, i) => `${tag}-${i}`);
  for (let i = 0; i < showIds.length; i += 50) await Promise.all(showIds.slice(i, i + 50).map((id) => s.createShow(benchShowInput(id, rowsPerShow, SEATS_PER_ROW))));

  const holdsHist = new Histogram();
  const second = new Histogram();
  let holds = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const client = async (c: number): Promise<void> => {
    for (let k = 0; performance.now() < deadline; k++) {
      const showIndex = (c + k * INFLIGHT) % shows;
      const slot = shows === 1 ? c + (workload === 'hold/confirm' ? k * INFLIGHT : 0) : Math.floor((c + k * INFLIGHT) / shows);
      if (workload === 'hold/confirm' && slot >= seatsPerShow) return;
      const seat = slot % seatsPerShow;
      const label = `R${Math.floor(seat / SEATS_PER_ROW)}-${(seat % SEATS_PER_ROW) + 1}`;
      const showId = showIds[showIndex] as string;
      let t0 = performance.now();
      const h = await s.hold(showId, { seats: [label] });
      let t1 = performance.now();
      holdsHist.recordMs(t1 - t0);
      holds++;
      t0 = t1;
      if (workload === 'hold/release') await s.release(showId, h.holdId, h.holdToken);
      else await s.confirm(showId, h.holdId, h.holdToken, { paymentRef: `pay-${c}-${k}` });
      t1 = performance.now();
      second.recordMs(t1 - t0);
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, (_, c) => client(c)));
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

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const loadBefore = uptime();
  process.stdout.write(`machine: ${cpus().length} cores; before: ${loadBefore}\n`);
  await adminQuery(`CREATE DATABASE ${dbName}`);
  const rows: Row[] = [];
  try {
    for (const kind of STORAGES)
      for (const workload of WORKLOADS)
        for (const shows of [1, SHOWS])
          for (let round = 0; round < REPEAT; round++)
            for (const depth of round % 2 ? [...DEPTHS].reverse() : DEPTHS) {
              const row = await load(kind, workload, shows, depth, round);
              rows.push(row);
              process.stdout.write(
                `  ${kind} ${workload} ${row.layout} depth ${depth} round ${round + 1}: ${formatNumber(row.holdsPerSec)} holds/s, hold p99 ${row.holdP99Ms.toFixed(1)} ms\n`,
              );
            }
  } finally {
    const nc = await connect({ servers: NATS_URL });
    const jsm = await nc.jetstreamManager();
    // The stream and the out-events stream opened beside it (`<stream>_OUT`).
    await jsm.streams.delete(stream).catch(() => false);
    await jsm.streams.delete(`${stream}_OUT`).catch(() => false);
    await nc.close();
    await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
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
          const holdsPerSec = median(cell.map((r) => r.holdsPerSec));
          const ratios = cell.map((r) => r.holdsPerSec / ((baseCell.find((b) => b.round === r.round) as Row).holdsPerSec));
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
      ['storage', 'workload', 'layout', 'depth', 'holds/s', `× depth ${base}`, 'per round', 'hold p50 ms', 'hold p99 ms', 'release/confirm p99 ms'],
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
  const out = writeJson(resultPath('pipeline'), {
    at: new Date().toISOString(),
    machine: { cores: cpus().length, loadBefore, loadAfter },
    settings: { seconds: SECONDS, inflight: INFLIGHT, shows: SHOWS, repeat: REPEAT, depths: DEPTHS, storages: STORAGES },
    summary,
    runs: rows,
  });
  process.stdout.write(`wrote ${out}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
