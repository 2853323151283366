/**
 * CPU per hold on one durable node (JetStream + Postgres, ROLE=all) under the spread shape of
 * `bench:compare`: many shows, one client each, so every show batch holds one command and pays
 * its own append. Closed loop (or `rate`) over HTTP keep-alive (bench/edge-cpu/load.ts): hold,
 * then release or (every `confirmEvery`-th cycle) confirm.
 *
 * The figure of merit is CPU µs per operation, not throughput: the machine is shared, and CPU
 * per op moves much less with other people's load than requests/s. Per checkout and round:
 * start the server (inspector on) against a database, stream and subjects of its own, create
 * the shows, warm up, then
 *   1. a plain window: CPU from /proc of the server, nats-server and this run's Postgres
 *      backends; the server's write syscalls (/proc/<pid>/io syscw), JetStream messages
 *      appended (stream state) and Postgres transactions (pg_stat_database) — each per hold;
 *   2. a profiled window: self time by function, and by project folder (bench/lib/cpu-profile.ts),
 *      scaled to the main thread's CPU per request from (1).
 * Checkouts run alternately (A B, B A, …) in one invocation; the table gives the median of rounds.
 * A checkout's round that throws is reported and fails the bench; the other rounds still run
 * and the results are still written. The command line is run.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type NatsConnection, connect as natsConnect } from 'nats';
import pg from 'pg';
import { median } from '../../testkit/percentile.ts';
import { deleteSeatStreams } from '../../testkit/seat-streams.ts';
import { EDGE_LIMITS_OFF_ENV } from '../../testkit/spawn-server.ts';
import { SERVICE_URLS } from '../compare/backends.ts';
import { EdgeLoad } from '../edge-cpu/load.ts';
import { loadAverageLine, runCheckoutRounds } from '../lib/checkout-rounds.ts';
import type { BenchOutcome } from '../lib/cli.ts';
import type { CheckoutOptions, ProfiledLoadOptions } from '../lib/cpu-bench-args.ts';
import { type CpuProfile, foldProfile, InspectorProfiler, threadCpuSec } from '../lib/cpu-profile.ts';
import { createDatabase, dropDatabase, postgresPids } from '../lib/pg-admin.ts';
import { Phases } from '../lib/phases.ts';
import { createBenchShows, type ProfiledServer, startProfiledServer, stopProfiledServer } from '../lib/profiled-server.ts';
import { cpuDelta, pidsByName, snapshotCpu, ticksPerSecond } from '../lib/proc-cpu.ts';
import { writeJson, writeResults } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';

export interface DurableCpuBenchOptions extends CheckoutOptions, ProfiledLoadOptions {
  /** Shows, one keep-alive client each. */
  shows: number;
  /**
   * Requests/s offered by all clients together; 0: closed loop, as the spread phase of
   * bench:compare runs. CPU per op falls as the rate rises (more appends share a socket write,
   * more work per wakeup): at a low fixed rate every op pays a full wakeup of the process and of
   * nats-server, which hides what batching saves; closed loop measures the cost at saturation.
   */
  rate: number;
}

// 500 seats per show, as the spread phase of bench:compare.
const ROWS = 10;
const SEATS_PER_ROW = 50;
const TOP_FUNCTIONS = 25;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The profiled server and what was made for it (removed again by stopServer). */
interface Server extends ProfiledServer {
  dataDir: string;
  dbName: string;
  stream: string;
}

async function startServer(root: string, tag: string, nc: NatsConnection): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'durable-cpu-'));
  const dbName = `bench_dcpu_${tag}`;
  const stream = `BENCH_DCPU_${tag}`;
  const removeAll = async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await Promise.allSettled([dropDatabase(dbName), deleteSeatStreams(nc, stream)]);
  };
  try {
    const dbUrl = await createDatabase(dbName);
    const server = await startProfiledServer(root, {
      ...EDGE_LIMITS_OFF_ENV,
      RATE_LIMIT_HOLDS_PER_MINUTE: '0',
      RATE_LIMIT_CUSTOMER_HOLDS_PER_MINUTE: '0',
      DATA_DIR: dataDir,
      NATS_URL: SERVICE_URLS.nats,
      DATABASE_URL: dbUrl,
      REDIS_URL: '',
      NATS_STREAM: stream,
      EVENT_SUBJECT_PREFIX: `bench.dcpu${tag}.events`,
      BUS_SUBJECT_PREFIX: `bench.dcpu${tag}.bus`,
    });
    return { ...server, dataDir, dbName, stream };
  } catch (err) {
    // No server to stop: remove what was made for it, then say why.
    await removeAll();
    throw err;
  }
}

async function stopServer(s: Server, nc: NatsConnection): Promise<void> {
  await stopProfiledServer(s, 15_000);
  rmSync(s.dataDir, { recursive: true, force: true });
  await dropDatabase(s.dbName).catch(() => undefined);
  await deleteSeatStreams(nc, s.stream);
}

/** Write syscalls (write, writev, sendmsg…) the process has made. */
function writeSyscalls(pid: number): number {
  const m = /syscw:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function pgTransactions(dbName: string): Promise<number> {
  const c = new pg.Client({ connectionString: SERVICE_URLS.postgres });
  await c.connect();
  try {
    const r = await c.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [dbName]);
    return Number(r.rows[0]?.n ?? NaN);
  } finally {
    await c.end();
  }
}

/** Self time by function (`name file:line`), µs, idle left out. */
function selfByFunction(profile: CpuProfile, root: string): Record<string, number> {
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++)
    self.set(profile.samples[i] as number, (self.get(profile.samples[i] as number) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  const out: Record<string, number> = {};
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const [id, t] of self) {
    const cf = (byId.get(id) as (typeof profile.nodes)[number]).callFrame as { functionName: string; url: string; lineNumber?: number };
    if (cf.functionName === '(idle)') continue;
    const file = cf.url
      .replace(/^file:\/\//, '')
      .replace(`${root}/`, '')
      .replace(/^.*\/node_modules\//, '');
    const key = `${cf.functionName || '(anonymous)'} ${file || '(native)'}${file ? `:${(cf.lineNumber ?? 0) + 1}` : ''}`;
    out[key] = (out[key] ?? 0) + t;
  }
  return out;
}

interface Sample {
  checkout: string;
  round: number;
  requestsPerSec: number;
  holds: number;
  requests: number;
  /** CPU µs per hold (a hold and its release or confirm): the server, nats-server, Postgres. */
  cpuUsPerHold: { server: number; serverMainThread: number; natsServer: number; postgres: number };
  perHold: { writeSyscalls: number; jetStreamMessages: number; postgresTransactions: number };
  /** µs per hold of the server's main thread, by project folder and by function (profile shares). */
  byFolder: Record<string, number>;
  topFunctions: Record<string, number>;
  errors: number;
  errorSamples: string[];
}

async function measure(opts: DurableCpuBenchOptions, root: string, round: number, nc: NatsConnection): Promise<Sample> {
  const { seconds: SECONDS, warmupSeconds: WARMUP, shows: SHOWS, confirmEvery: CONFIRM_EVERY, rate: RATE, sampleUs: SAMPLE_US } = opts;
  const SAVE_PROFILES = opts.saveProfiles;
  const tag = randomBytes(5).toString('hex');
  const server = await startServer(root, tag, nc);
  try {
    const shows = await createBenchShows(server, 'dcpu', SHOWS, ROWS, SEATS_PER_ROW);
    const load = new EdgeLoad({
      url: server.url,
      shows,
      rows: ROWS,
      seatsPerRow: SEATS_PER_ROW,
      concurrency: SHOWS,
      confirmEvery: CONFIRM_EVERY,
      keyPrefix: tag,
      rate: RATE,
    });
    const profiler = await InspectorProfiler.connect(server.inspector);
    const jsm = await nc.jetstreamManager();
    load.start();
    await sleep(WARMUP * 1000);

    const pid = server.proc.pid as number;
    const groups = [
      { label: 'server', pids: [pid] },
      { label: 'nats', pids: pidsByName('nats-server') },
      { label: 'postgres', pids: await postgresPids(server.dbName) },
    ];
    const before = snapshotCpu(groups);
    const main0 = threadCpuSec(pid, pid, ticksPerSecond());
    const w0 = writeSyscalls(pid);
    const m0 = (await jsm.streams.info(server.stream)).state.messages;
    const x0 = await pgTransactions(server.dbName);
    const r0 = load.requests;
    const h0 = load.counts.holds;
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const requests = load.requests - r0;
    const holds = load.counts.holds - h0;
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuDelta(before, snapshotCpu(groups));
    const mainSec = threadCpuSec(pid, pid, ticksPerSecond()) - main0;
    const writes = writeSyscalls(pid) - w0;
    const messages = (await jsm.streams.info(server.stream)).state.messages - m0;
    const xacts = (await pgTransactions(server.dbName)) - x0;

    await profiler.start(SAMPLE_US);
    await sleep(SECONDS * 1000);
    const profile = await profiler.stop();
    profiler.close();
    await load.stop();
    if (SAVE_PROFILES) writeJson(join(SAVE_PROFILES, `durable-cpu-${basename(root)}-${round}.cpuprofile`), profile);

    const perHold = (x: number) => (holds > 0 ? x / holds : NaN);
    const mainUsPerHold = perHold(mainSec * 1e6);
    const scale = (folded: Record<string, number>) => {
      const total = Object.values(folded).reduce((a, b) => a + b, 0);
      return Object.fromEntries(Object.entries(folded).map(([k, v]) => [k, (v / total) * mainUsPerHold]));
    };
    const fns = Object.entries(scale(selfByFunction(profile, root)))
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_FUNCTIONS);
    const { errorSamples, errors } = load.counts;
    return {
      checkout: root,
      round,
      requestsPerSec: requests / seconds,
      holds,
      requests,
      cpuUsPerHold: {
        server: perHold((cpu.server ?? 0) * 1e6),
        serverMainThread: mainUsPerHold,
        natsServer: perHold((cpu.nats ?? 0) * 1e6),
        postgres: perHold((cpu.postgres ?? 0) * 1e6),
      },
      perHold: { writeSyscalls: perHold(writes), jetStreamMessages: perHold(messages), postgresTransactions: perHold(xacts) },
      byFolder: scale(foldProfile(profile, root)),
      topFunctions: Object.fromEntries(fns),
      errors,
      errorSamples,
    };
  } finally {
    await stopServer(server, nc);
  }
}

export async function run(opts: DurableCpuBenchOptions): Promise<BenchOutcome> {
  const {
    checkouts: CHECKOUTS,
    rounds: ROUNDS,
    seconds: SECONDS,
    warmupSeconds: WARMUP,
    shows: SHOWS,
    confirmEvery: CONFIRM_EVERY,
    rate: RATE,
    sampleUs: SAMPLE_US,
  } = opts;
  const phases = new Phases();
  const nc = await natsConnect({ servers: SERVICE_URLS.nats });
  const loadBefore = loadavg();
  let samples: Sample[];
  try {
    samples = await runCheckoutRounds(
      phases,
      CHECKOUTS,
      ROUNDS,
      (root, round) => measure(opts, root, round, nc),
      (s, root, round) =>
        process.stderr.write(
          `round ${round} ${root}: ${formatNumber(s.requestsPerSec)} req/s, server ${formatNumber(s.cpuUsPerHold.server, 1)} µs CPU/hold, nats-server ${formatNumber(s.cpuUsPerHold.natsServer, 1)}, errors ${s.errors}${s.errorSamples.length ? ` (${s.errorSamples[0]})` : ''}\n`,
        ),
    );
  } finally {
    await nc.close();
  }
  const loadAfter = loadavg();

  const summary = CHECKOUTS.flatMap((root) => {
    const mine = samples.filter((s) => s.checkout === root);
    if (mine.length === 0) return []; // every round of it failed (said above)
    // A window with no hold gives NaN per hold: the median is of the windows that measured.
    const med = (f: (s: Sample) => number) => median(mine.map(f).filter(Number.isFinite));
    const folders = [...new Set(mine.flatMap((s) => Object.keys(s.byFolder)))];
    const fns = [...new Set(mine.flatMap((s) => Object.keys(s.topFunctions)))];
    return {
      checkout: root,
      requestsPerSec: med((s) => s.requestsPerSec),
      cpuUsPerHold: {
        server: med((s) => s.cpuUsPerHold.server),
        serverMainThread: med((s) => s.cpuUsPerHold.serverMainThread),
        natsServer: med((s) => s.cpuUsPerHold.natsServer),
        postgres: med((s) => s.cpuUsPerHold.postgres),
      },
      perHold: {
        writeSyscalls: med((s) => s.perHold.writeSyscalls),
        jetStreamMessages: med((s) => s.perHold.jetStreamMessages),
        postgresTransactions: med((s) => s.perHold.postgresTransactions),
      },
      byFolder: Object.fromEntries(
        folders.map((f): [string, number] => [f, med((s) => s.byFolder[f] ?? 0)]).sort((a, b) => b[1] - a[1]),
      ) as Record<string, number>,
      topFunctions: Object.fromEntries(
        fns
          .map((f): [string, number] => [f, med((s) => s.topFunctions[f] ?? 0)])
          .sort((a, b) => b[1] - a[1])
          .slice(0, TOP_FUNCTIONS),
      ) as Record<string, number>,
      errors: mine.reduce((a, s) => a + s.errors, 0),
    };
  });

  const f1 = (x: number) => formatNumber(x, 1);
  const f2 = (x: number) => formatNumber(x, 2);
  const firstServer = summary[0]?.cpuUsPerHold.server ?? Number.NaN;
  const rows: (string | number)[][] = [
    ['requests/s (not the figure of merit)', ...summary.map((s) => formatNumber(s.requestsPerSec))],
    ['server CPU µs/hold (/proc, all threads)', ...summary.map((s) => f1(s.cpuUsPerHold.server))],
    ['  main thread', ...summary.map((s) => f1(s.cpuUsPerHold.serverMainThread))],
    ['nats-server CPU µs/hold', ...summary.map((s) => f1(s.cpuUsPerHold.natsServer))],
    ['postgres CPU µs/hold', ...summary.map((s) => f1(s.cpuUsPerHold.postgres))],
    ['server write syscalls/hold', ...summary.map((s) => f2(s.perHold.writeSyscalls))],
    ['JetStream messages/hold', ...summary.map((s) => f2(s.perHold.jetStreamMessages))],
    ['Postgres transactions/hold', ...summary.map((s) => f2(s.perHold.postgresTransactions))],
    ['server CPU/hold vs first', ...summary.map((s) => f2(s.cpuUsPerHold.server / firstServer))],
    ['errors', ...summary.map((s) => s.errors)],
  ];
  console.log(renderTable(['median of rounds', ...summary.map((s) => s.checkout)], rows));
  for (const s of summary) {
    console.log(`\n${s.checkout}: main-thread µs/hold by folder`);
    console.log(
      Object.entries(s.byFolder)
        .slice(0, 12)
        .map(([k, v]) => `  ${f1(v).padStart(7)}  ${k}`)
        .join('\n'),
    );
    console.log(`${s.checkout}: top functions by self time, µs/hold`);
    console.log(
      Object.entries(s.topFunctions)
        .slice(0, 15)
        .map(([k, v]) => `  ${f1(v).padStart(7)}  ${k}`)
        .join('\n'),
    );
  }
  console.log(
    `\n${SHOWS} shows of ${ROWS * SEATS_PER_ROW} seats, one keep-alive client each (batches of one command); a hold, then a release or (1 in ${CONFIRM_EVERY}) a confirm; offered ${RATE > 0 ? `${RATE} requests/s` : 'closed loop'}`,
  );
  console.log(loadAverageLine(loadBefore, loadAfter));
  const path = writeResults(
    'durable-cpu',
    {
      at: new Date().toISOString(),
      settings: {
        rate: RATE,
        rounds: ROUNDS,
        seconds: SECONDS,
        warmup: WARMUP,
        shows: SHOWS,
        seatsPerShow: ROWS * SEATS_PER_ROW,
        confirmEvery: CONFIRM_EVERY,
        sampleUs: SAMPLE_US,
        storage: 'JetStream + Postgres (ROLE=all)',
      },
      loadAverage: { before: loadBefore, after: loadAfter },
      summary,
      samples,
      failed: phases.failed,
    },
    opts.out,
  );
  console.log(`wrote ${path}`);
  return { failed: phases.failed };
}
