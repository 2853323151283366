/**
 * Where a request's CPU goes on one node: holds, releases and confirms over HTTP keep-alive
 * against `src/main.ts` (ROLE=all, the embedded store in a temporary DATA_DIR), split by the
 * part of the system that spent it.
 *
 * Clients send as fast as answers come (closed loop), where batching amortizes what it can;
 * `--rate N` offers a fixed rate instead, so both checkouts do the same work per second (per
 * request costs are then higher: every request wakes the loop on its own).
 *
 * Per checkout and round: start the server (with its inspector on), create the shows, warm
 * up, then
 *   1. a plain window: the server's CPU from /proc (utime + stime), the whole process and its
 *      main thread, over the requests answered → CPU µs per request;
 *   2. a profiled window: a sampling profile over the inspector, each sample charged to the
 *      innermost frame in the checkout's src/<folder>/ (see bench/lib/cpu-profile.ts) → the
 *      share of each folder, applied to the main thread's CPU from (1). The rest of the
 *      process (libuv's pool writing and syncing the log, GC and compiler helper threads) is
 *      its own row.
 * Checkouts run alternately (A B, B A, …) in one invocation, so a before/after pair shares the
 * machine's load; the table gives the median of the rounds.
 *
 * The edge limits the load would trip from one loopback address are switched off, explicitly:
 * RATE_LIMIT_HOLDS_PER_MINUTE=0, RATE_LIMIT_CUSTOMER_HOLDS_PER_MINUTE=0 (plus the others in
 * EDGE_LIMITS_OFF_ENV). The rate limiter still runs its checks; only the caps are off.
 * A checkout's round that throws is reported and fails the bench; the other rounds still run
 * and the results are still written. The command line is run.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { EDGE_LIMITS_OFF_ENV } from '../../testkit/spawn-server.ts';
import { median } from '../../testkit/percentile.ts';
import { loadAverageLine, runCheckoutRounds } from '../lib/checkout-rounds.ts';
import type { BenchOutcome } from '../lib/cli.ts';
import type { CheckoutOptions, ProfiledLoadOptions } from '../lib/cpu-bench-args.ts';
import { foldProfile, InspectorProfiler, threadCpuSec } from '../lib/cpu-profile.ts';
import { cpuDelta, snapshotCpu, ticksPerSecond } from '../lib/proc-cpu.ts';
import { Phases } from '../lib/phases.ts';
import { createBenchShows, type ProfiledServer, startProfiledServer, stopProfiledServer } from '../lib/profiled-server.ts';
import { writeJson, writeResults } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';
import { EdgeLoad } from './load.ts';

export interface EdgeCpuBenchOptions extends CheckoutOptions, ProfiledLoadOptions {
  /** Keep-alive clients. */
  concurrency: number;
  /** Requests/s offered (0: closed loop, as fast as answers come). Below saturation, both checkouts do the same work per second. */
  rate: number;
}

const ROWS = 100;
const SEATS_PER_ROW = 100;

/** The limits switched off for this load (named so the results say so). */
const LIMITS_ENV = { ...EDGE_LIMITS_OFF_ENV, RATE_LIMIT_HOLDS_PER_MINUTE: '0', RATE_LIMIT_CUSTOMER_HOLDS_PER_MINUTE: '0' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The profiled server and its data folder (removed by stopServer). */
interface Server extends ProfiledServer {
  dataDir: string;
}

async function startServer(root: string): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'edge-cpu-'));
  try {
    const server = await startProfiledServer(root, { ...LIMITS_ENV, DATA_DIR: dataDir, NATS_URL: '', DATABASE_URL: '', REDIS_URL: '' });
    return { ...server, dataDir };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

async function stopServer(s: Server): Promise<void> {
  await stopProfiledServer(s, 10_000);
  rmSync(s.dataDir, { recursive: true, force: true });
}

interface Sample {
  checkout: string;
  round: number;
  requestsPerSec: number;
  /** The whole process (every thread), per request. */
  cpuUsPerRequest: number;
  /** The main (JavaScript) thread alone, per request. */
  mainThreadUsPerRequest: number;
  /** Share of the profiled main-thread time per bucket (0..1). */
  shares: Record<string, number>;
  /** µs per request per bucket: share × mainThreadUsPerRequest; `other threads` = process − main thread. */
  usPerRequest: Record<string, number>;
  counts: { holds: number; releases: number; confirms: number; errors: number };
  errorSamples: string[];
}

async function measure(opts: EdgeCpuBenchOptions, root: string, round: number): Promise<Sample> {
  const {
    seconds: SECONDS,
    warmupSeconds: WARMUP,
    concurrency: CONCURRENCY,
    confirmEvery: CONFIRM_EVERY,
    rate: RATE,
    sampleUs: SAMPLE_US,
    saveProfiles: SAVE_PROFILES,
  } = opts;
  const server = await startServer(root);
  try {
    const shows = await createBenchShows(server, 'edge', opts.shows, ROWS, SEATS_PER_ROW);
    const load = new EdgeLoad({
      url: server.url,
      shows,
      rows: ROWS,
      seatsPerRow: SEATS_PER_ROW,
      concurrency: CONCURRENCY,
      confirmEvery: CONFIRM_EVERY,
      keyPrefix: randomBytes(6).toString('hex'),
      rate: RATE,
    });
    const profiler = await InspectorProfiler.connect(server.inspector);
    load.start();
    await sleep(WARMUP * 1000);

    const pid = server.proc.pid as number;
    const group = [{ label: 'server', pids: [pid] }];
    const before = snapshotCpu(group);
    const main0 = threadCpuSec(pid, pid, ticksPerSecond());
    const r0 = load.requests;
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const requests = load.requests - r0;
    const seconds = (performance.now() - t0) / 1000;
    const cpuSec = cpuDelta(before, snapshotCpu(group)).server ?? 0;
    const mainSec = threadCpuSec(pid, pid, ticksPerSecond()) - main0;

    await profiler.start(SAMPLE_US);
    await sleep(SECONDS * 1000);
    const profile = await profiler.stop();
    profiler.close();
    await load.stop();

    if (SAVE_PROFILES) writeJson(join(SAVE_PROFILES, `edge-cpu-${basename(root)}-${round}.cpuprofile`), profile);
    const folded = foldProfile(profile, root);
    const total = Object.values(folded).reduce((a, b) => a + b, 0);
    const cpuUsPerRequest = requests > 0 ? (cpuSec * 1e6) / requests : NaN;
    const mainThreadUsPerRequest = requests > 0 ? (mainSec * 1e6) / requests : NaN;
    const shares: Record<string, number> = {};
    const usPerRequest: Record<string, number> = { [OTHER_THREADS]: cpuUsPerRequest - mainThreadUsPerRequest };
    for (const [k, v] of Object.entries(folded)) {
      shares[k] = v / total;
      usPerRequest[k] = (v / total) * mainThreadUsPerRequest;
    }
    const { errorSamples, ...counts } = load.counts;
    return {
      checkout: root,
      round,
      requestsPerSec: requests / seconds,
      cpuUsPerRequest,
      mainThreadUsPerRequest,
      shares,
      usPerRequest,
      counts,
      errorSamples,
    };
  } finally {
    await stopServer(server);
  }
}

const OTHER_THREADS = 'other threads';

/** The groups the table reports: what the edge spends against what the show's actor does. */
const GROUPS: Record<string, string[]> = {
  'gateway JS (src/gateway, node http)': ['src/gateway', 'node http/net'],
  'gateway socket writes (syscall)': ['src/gateway [write]', 'node http/net [write]'],
  'service (ids, tokens; src/service)': ['src/service', 'src/service [write]'],
  'actor (src/actors)': ['src/actors', 'src/actors [write]'],
  'persistence (src/persistence)': ['src/persistence', 'src/persistence [write]'],
  gc: ['(gc)'],
  'other (program, libs, timers)': ['(program)', '(other)', 'node (other)', 'node (other) [write]'],
  'other threads (fs pool, GC helpers)': [OTHER_THREADS],
};
const GATEWAY_GROUPS = ['gateway JS (src/gateway, node http)', 'gateway socket writes (syscall)', 'service (ids, tokens; src/service)'];
const ACTOR_GROUPS = ['actor (src/actors)', 'persistence (src/persistence)'];

function grouped(us: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  const known = new Set(Object.values(GROUPS).flat());
  for (const [g, keys] of Object.entries(GROUPS)) out[g] = keys.reduce((a, k) => a + (us[k] ?? 0), 0);
  // Project files outside a folder (src/logger.ts, src/metrics.ts, …) and anything unforeseen.
  for (const [k, v] of Object.entries(us))
    if (!known.has(k)) out['other (program, libs, timers)'] = (out['other (program, libs, timers)'] ?? 0) + v;
  return out;
}

export async function run(opts: EdgeCpuBenchOptions): Promise<BenchOutcome> {
  const {
    checkouts: CHECKOUTS,
    rounds: ROUNDS,
    seconds: SECONDS,
    warmupSeconds: WARMUP,
    concurrency: CONCURRENCY,
    shows: SHOWS,
    confirmEvery: CONFIRM_EVERY,
    rate: RATE,
    sampleUs: SAMPLE_US,
  } = opts;
  const phases = new Phases();
  const loadBefore = loadavg();
  const samples = await runCheckoutRounds(
    phases,
    CHECKOUTS,
    ROUNDS,
    (root, round) => measure(opts, root, round),
    (s, root, round) =>
      process.stderr.write(
        `round ${round} ${root}: ${formatNumber(s.requestsPerSec)} req/s, ${formatNumber(s.cpuUsPerRequest, 1)} µs CPU/req, errors ${s.counts.errors}${s.errorSamples.length ? ` (${s.errorSamples[0]})` : ''}\n`,
      ),
  );
  const loadAfter = loadavg();

  const summary = CHECKOUTS.flatMap((root) => {
    const mine = samples.filter((s) => s.checkout === root);
    if (mine.length === 0) return []; // every round of it failed (said above)
    const groups = mine.map((s) => grouped(s.usPerRequest));
    const byGroup: Record<string, number> = {};
    for (const g of Object.keys(GROUPS)) byGroup[g] = median(groups.map((x) => x[g] ?? 0));
    const folders = new Set(mine.flatMap((s) => Object.keys(s.usPerRequest)));
    const byFolder: Record<string, number> = {};
    for (const f of folders) byFolder[f] = median(mine.map((s) => s.usPerRequest[f] ?? 0));
    return {
      checkout: root,
      requestsPerSec: median(mine.map((s) => s.requestsPerSec)),
      cpuUsPerRequest: median(mine.map((s) => s.cpuUsPerRequest)),
      mainThreadUsPerRequest: median(mine.map((s) => s.mainThreadUsPerRequest)),
      byGroup,
      byFolder,
      errors: mine.reduce((a, s) => a + s.counts.errors, 0),
    };
  });

  const headers = ['µs CPU per request (median)', ...summary.map((s) => s.checkout)];
  const sum = (s: (typeof summary)[number], groups: string[]) => groups.reduce((a, g) => a + (s.byGroup[g] ?? 0), 0);
  const rows = [
    ['requests/s', ...summary.map((s) => formatNumber(s.requestsPerSec))],
    ['total (server process, /proc)', ...summary.map((s) => formatNumber(s.cpuUsPerRequest, 1))],
    ['  main thread (/proc)', ...summary.map((s) => formatNumber(s.mainThreadUsPerRequest, 1))],
    ...Object.keys(GROUPS).map((g) => [`  ${g}`, ...summary.map((s) => formatNumber(s.byGroup[g] ?? 0, 1))]),
    ['edge: gateway + writes + service', ...summary.map((s) => formatNumber(sum(s, GATEWAY_GROUPS), 1))],
    ['actor: actors + persistence', ...summary.map((s) => formatNumber(sum(s, ACTOR_GROUPS), 1))],
    ['edge / actor', ...summary.map((s) => formatNumber(sum(s, GATEWAY_GROUPS) / sum(s, ACTOR_GROUPS), 2))],
    [
      'edge without socket writes / actor',
      ...summary.map((s) =>
        formatNumber((sum(s, GATEWAY_GROUPS) - (s.byGroup['gateway socket writes (syscall)'] ?? 0)) / sum(s, ACTOR_GROUPS), 2),
      ),
    ],
    ['errors', ...summary.map((s) => s.errors)],
  ];
  console.log(renderTable(headers, rows));
  console.log(
    `\noffered: ${RATE > 0 ? `${RATE} requests/s` : 'closed loop'}; mix: 1 hold : ${formatNumber((CONFIRM_EVERY - 1) / CONFIRM_EVERY, 2)} release : ${formatNumber(1 / CONFIRM_EVERY, 2)} confirm, every request keyed; ${CONCURRENCY} keep-alive clients, ${SHOWS} shows`,
  );
  console.log(loadAverageLine(loadBefore, loadAfter));

  const path = writeResults(
    'edge-cpu',
    {
      at: new Date().toISOString(),
      settings: {
        rate: RATE,
        rounds: ROUNDS,
        seconds: SECONDS,
        warmup: WARMUP,
        concurrency: CONCURRENCY,
        shows: SHOWS,
        confirmEvery: CONFIRM_EVERY,
        sampleUs: SAMPLE_US,
        storage: 'embedded (DATA_DIR, temporary)',
        limitsOff: LIMITS_ENV,
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
