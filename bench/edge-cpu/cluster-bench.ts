/**
 * Where a request's CPU goes through the cluster: the same holds, releases and confirms as
 * bench/edge-cpu/run.ts, sent to a gateway process that routes them over NATS to one worker
 * process (real JetStream, Postgres and Redis, each under this run's own stream, database,
 * subject and key prefixes: testkit/cluster.ts). Both node processes run with their
 * inspector on; one profiled window folds each process's main thread by project folder, so
 * every hop gets its µs per request:
 *
 *   gateway: HTTP edge (src/gateway) → routing (src/cluster: batcher, hop frames) → nats client
 *   worker:  nats client → endpoint (src/cluster: hop frames, results) → service → actor →
 *            persistence (JetStream append, Postgres booking rows) → reply
 *
 * nats-server and Postgres are shared with whatever else runs on this machine, so their CPU
 * is not charged here. Edge limits are off (RATE_LIMIT_HOLDS_PER_MINUTE=0 and the rest of
 * EDGE_LIMITS_OFF_ENV), as for any load from one loopback address.
 *
 * Each checkout's cluster runs its own src/main.ts (and its node_modules). Checkouts run
 * alternately (A B, B A, …) in one invocation, a fresh cluster each round, so a before/after
 * pair shares the machine's load; the table gives the median of the rounds. A checkout's round
 * that throws is reported and fails the bench; its cluster is stopped, the other rounds still
 * run and the results are still written. The command line is run-cluster.ts.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { startCluster, type ClusterProcess } from '../../testkit/cluster.ts';
import { EDGE_LIMITS_OFF_ENV } from '../../testkit/spawn-server.ts';
import { median } from '../../testkit/percentile.ts';
import { loadAverageLine, runCheckoutRounds } from '../lib/checkout-rounds.ts';
import type { BenchOutcome } from '../lib/cli.ts';
import type { CheckoutOptions, ProfiledLoadOptions } from '../lib/cpu-bench-args.ts';
import { foldProfile, InspectorProfiler, inspectorUrlOf, threadCpuSec } from '../lib/cpu-profile.ts';
import { readProcStat, ticksPerSecond } from '../lib/proc-cpu.ts';
import { Phases } from '../lib/phases.ts';
import { writeJson, writeResults } from '../lib/results.ts';
import { benchShowInput } from '../../testkit/shows.ts';
import { formatNumber, renderTable } from '../lib/table.ts';
import { EdgeLoad } from './load.ts';

export interface EdgeCpuClusterBenchOptions extends CheckoutOptions, ProfiledLoadOptions {
  /** Keep-alive clients. */
  concurrency: number;
}

const ROWS = 100;
const SEATS_PER_ROW = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function inspectorOf(p: ClusterProcess): string {
  for (const line of p.output) {
    const url = inspectorUrlOf(line);
    if (url) return url;
  }
  throw new Error(`${p.nodeId}: no inspector URL in its output`);
}

/** Process CPU and main-thread CPU of a pid, seconds. */
function cpuOf(pid: number): { process: number; main: number } {
  return { process: readProcStat(pid)?.cpuSec ?? NaN, main: threadCpuSec(pid, pid, ticksPerSecond()) };
}

/** What each hop is, by process and profile bucket. */
const HOPS: Array<{ hop: string; process: 'gateway' | 'worker'; buckets: string[] }> = [
  { hop: 'gateway: HTTP edge (src/gateway, node http)', process: 'gateway', buckets: ['src/gateway', 'node http/net'] },
  { hop: 'gateway: HTTP socket writes (syscall)', process: 'gateway', buckets: ['src/gateway [write]', 'node http/net [write]'] },
  { hop: 'gateway: routing (src/cluster: batcher, hop frames)', process: 'gateway', buckets: ['src/cluster', 'src/cluster [write]'] },
  { hop: 'gateway: nats client (requests out, results in)', process: 'gateway', buckets: ['lib nats'] },
  { hop: 'gateway: nats socket writes (syscall)', process: 'gateway', buckets: ['lib nats [write]'] },
  // Its own socket callbacks: the hop's requests and results, and JetStream's PubAcks.
  { hop: 'worker: nats client (requests in, results and appends out, acks in)', process: 'worker', buckets: ['lib nats'] },
  { hop: 'worker: nats socket writes (syscall)', process: 'worker', buckets: ['lib nats [write]'] },
  // The worker checks every op again with the edge's schemas (src/service/schemas/request-schemas.ts).
  {
    hop: 'worker: endpoint (src/cluster hop frames, op checks)',
    process: 'worker',
    buckets: ['src/cluster', 'src/cluster [write]', 'src/gateway'],
  },
  { hop: 'worker: service (ids, tokens; src/service)', process: 'worker', buckets: ['src/service'] },
  { hop: 'worker: actor (src/actors)', process: 'worker', buckets: ['src/actors', 'src/actors [write]'] },
  {
    hop: 'worker: persistence (JetStream append, booking rows)',
    process: 'worker',
    buckets: ['src/persistence', 'src/persistence [write]', 'lib pg', 'lib pg [write]', 'lib pg-protocol', 'lib pg-pool'],
  },
];

type Side = 'gateway' | 'worker';

/** One checkout's round. */
interface Sample {
  checkout: string;
  round: number;
  requestsPerSec: number;
  /** Each process and its main thread, µs per request (/proc). */
  cpuUsPerRequest: Record<Side, { process: number; main: number }>;
  /** µs per request of each hop row, in table order. */
  hops: Record<string, number>;
  /** µs per request of each profile bucket of each main thread. */
  buckets: Record<Side, Record<string, number>>;
  counts: { holds: number; releases: number; confirms: number; errors: number };
  errorSamples: string[];
}

/** The hop rows: each named hop, then per process its gc, the rest of its main thread and its other threads. */
function hopRows(buckets: Sample['buckets'], cpu: Sample['cpuUsPerRequest']): Record<string, number> {
  const rows: Record<string, number> = {};
  for (const h of HOPS) rows[h.hop] = h.buckets.reduce((a, b) => a + (buckets[h.process][b] ?? 0), 0);
  for (const p of ['gateway', 'worker'] as const) {
    const named = new Set(HOPS.filter((h) => h.process === p).flatMap((h) => h.buckets));
    const rest = Object.entries(buckets[p]).reduce((a, [k, v]) => (named.has(k) || k === '(gc)' ? a : a + v), 0);
    rows[`${p}: gc`] = buckets[p]['(gc)'] ?? 0;
    rows[`${p}: other (program, timers, metrics, logs)`] = rest;
    rows[`${p}: other threads (/proc)`] = cpu[p].process - cpu[p].main;
  }
  return rows;
}

/** One round of one checkout: start its cluster, load it, the plain then the profiled window. */
async function measure(opts: EdgeCpuClusterBenchOptions, root: string, round: number): Promise<Sample> {
  const {
    seconds: SECONDS,
    warmupSeconds: WARMUP,
    concurrency: CONCURRENCY,
    shows: SHOWS,
    confirmEvery: CONFIRM_EVERY,
    rate: RATE,
    sampleUs: SAMPLE_US,
    saveProfiles: SAVE_PROFILES,
  } = opts;
  const cluster = await startCluster({
    workers: 1,
    gateways: 1,
    cwd: root,
    env: {
      ...EDGE_LIMITS_OFF_ENV,
      RATE_LIMIT_HOLDS_PER_MINUTE: '0',
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:0`.trim(),
      LOG_LEVEL: 'info',
    },
  });
  try {
    const gateway = cluster.gateways[0]!;
    const worker = cluster.workers[0]!;
    const shows = Array.from({ length: SHOWS }, (_, i) => `edge-${i}`);
    for (const id of shows) {
      const r = await cluster.request('POST', '/v1/shows', benchShowInput(id, ROWS, SEATS_PER_ROW), { admin: true });
      if (r.status !== 201) throw new Error(`create show ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const load = new EdgeLoad({
      url: gateway.url,
      shows,
      rows: ROWS,
      seatsPerRow: SEATS_PER_ROW,
      concurrency: CONCURRENCY,
      confirmEvery: CONFIRM_EVERY,
      keyPrefix: randomBytes(6).toString('hex'),
      rate: RATE,
    });
    const profilers = {
      gateway: await InspectorProfiler.connect(inspectorOf(gateway)),
      worker: await InspectorProfiler.connect(inspectorOf(worker)),
    };
    const pids = { gateway: gateway.proc.pid as number, worker: worker.proc.pid as number };
    load.start();
    await sleep(WARMUP * 1000);

    // Plain window: CPU per request of each process and of its main thread.
    const before = { gateway: cpuOf(pids.gateway), worker: cpuOf(pids.worker) };
    const r0 = load.requests;
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const requests = load.requests - r0;
    const seconds = (performance.now() - t0) / 1000;
    const after = { gateway: cpuOf(pids.gateway), worker: cpuOf(pids.worker) };
    const perRequest = (sec: number) => (requests > 0 ? (sec * 1e6) / requests : NaN);
    const cpu = {
      gateway: {
        process: perRequest(after.gateway.process - before.gateway.process),
        main: perRequest(after.gateway.main - before.gateway.main),
      },
      worker: {
        process: perRequest(after.worker.process - before.worker.process),
        main: perRequest(after.worker.main - before.worker.main),
      },
    };

    // Profiled window: the shares of each main thread.
    await Promise.all([profilers.gateway.start(SAMPLE_US), profilers.worker.start(SAMPLE_US)]);
    await sleep(SECONDS * 1000);
    const [gp, wp] = await Promise.all([profilers.gateway.stop(), profilers.worker.stop()]);
    profilers.gateway.close();
    profilers.worker.close();
    await load.stop();
    if (SAVE_PROFILES) {
      const name = `edge-cpu-cluster-${basename(root)}-${round}`;
      writeJson(join(SAVE_PROFILES, `${name}-gateway.cpuprofile`), gp);
      writeJson(join(SAVE_PROFILES, `${name}-worker.cpuprofile`), wp);
    }

    const usOf = (folded: Record<string, number>, mainUs: number) => {
      const total = Object.values(folded).reduce((a, b) => a + b, 0);
      return Object.fromEntries(Object.entries(folded).map(([k, v]) => [k, (v / total) * mainUs]));
    };
    const buckets = { gateway: usOf(foldProfile(gp, root), cpu.gateway.main), worker: usOf(foldProfile(wp, root), cpu.worker.main) };
    const { errorSamples, ...counts } = load.counts;
    return {
      checkout: root,
      round,
      requestsPerSec: requests / seconds,
      cpuUsPerRequest: cpu,
      hops: hopRows(buckets, cpu),
      buckets,
      counts,
      errorSamples,
    };
  } finally {
    await cluster.stop();
  }
}

/** The median over a checkout's rounds of every figure (a window with no request gives NaN and is left out). */
function summarize(root: string, mine: Sample[]) {
  const med = (f: (s: Sample) => number) => median(mine.map(f).filter(Number.isFinite));
  const medOf = (f: (s: Sample) => Record<string, number>) =>
    Object.fromEntries([...new Set(mine.flatMap((s) => Object.keys(f(s))))].map((k) => [k, med((s) => f(s)[k] ?? 0)]));
  const side = (p: Side) => ({ process: med((s) => s.cpuUsPerRequest[p].process), main: med((s) => s.cpuUsPerRequest[p].main) });
  return {
    checkout: root,
    rounds: mine.length,
    requestsPerSec: med((s) => s.requestsPerSec),
    cpuUsPerRequest: { gateway: side('gateway'), worker: side('worker') },
    /** The median of each round's gateway + worker process CPU (not the sum of the two medians). */
    clusterCpuUsPerRequest: med((s) => s.cpuUsPerRequest.gateway.process + s.cpuUsPerRequest.worker.process),
    hops: medOf((s) => s.hops),
    buckets: { gateway: medOf((s) => s.buckets.gateway), worker: medOf((s) => s.buckets.worker) },
    counts: {
      holds: mine.reduce((a, s) => a + s.counts.holds, 0),
      releases: mine.reduce((a, s) => a + s.counts.releases, 0),
      confirms: mine.reduce((a, s) => a + s.counts.confirms, 0),
      errors: mine.reduce((a, s) => a + s.counts.errors, 0),
      errorSamples: mine.flatMap((s) => s.errorSamples).slice(0, 5),
    },
  };
}

export async function run(opts: EdgeCpuClusterBenchOptions): Promise<BenchOutcome> {
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
  const f1 = (x: number) => formatNumber(x, 1);
  const samples = await runCheckoutRounds(
    phases,
    CHECKOUTS,
    ROUNDS,
    (root, round) => measure(opts, root, round),
    (s, root, round) =>
      process.stderr.write(
        `round ${round} ${root}: ${formatNumber(s.requestsPerSec)} req/s, gateway ${f1(s.cpuUsPerRequest.gateway.process)} + worker ${f1(s.cpuUsPerRequest.worker.process)} µs CPU/req, errors ${s.counts.errors}${s.errorSamples.length ? ` (${s.errorSamples[0]})` : ''}\n`,
      ),
  );
  const loadAfter = loadavg();

  const summary = CHECKOUTS.flatMap((root) => {
    const mine = samples.filter((s) => s.checkout === root);
    return mine.length === 0 ? [] : [summarize(root, mine)]; // every round of it failed (said above)
  });
  const hopNames = [...new Set(summary.flatMap((s) => Object.keys(s.hops)))];
  const first = summary[0]?.clusterCpuUsPerRequest ?? Number.NaN;
  const rows = [
    ['requests/s', ...summary.map((s) => formatNumber(s.requestsPerSec))],
    ['gateway process total (/proc)', ...summary.map((s) => f1(s.cpuUsPerRequest.gateway.process))],
    ['  gateway main thread (/proc)', ...summary.map((s) => f1(s.cpuUsPerRequest.gateway.main))],
    ['worker process total (/proc)', ...summary.map((s) => f1(s.cpuUsPerRequest.worker.process))],
    ['  worker main thread (/proc)', ...summary.map((s) => f1(s.cpuUsPerRequest.worker.main))],
    ...hopNames.map((hop) => [`  ${hop}`, ...summary.map((s) => f1(s.hops[hop] ?? 0))]),
    ['gateway+worker CPU/request vs first', ...summary.map((s) => formatNumber(s.clusterCpuUsPerRequest / first, 2))],
    ['errors', ...summary.map((s) => s.counts.errors)],
  ];
  console.log(renderTable(['µs CPU per request, 1 gateway + 1 worker (median)', ...summary.map((s) => s.checkout)], rows));
  console.log(
    `\noffered: ${RATE > 0 ? `${RATE} requests/s` : 'closed loop'}; mix: 1 hold : ${formatNumber((CONFIRM_EVERY - 1) / CONFIRM_EVERY, 2)} release : ${formatNumber(1 / CONFIRM_EVERY, 2)} confirm, every request keyed; ${CONCURRENCY} keep-alive clients, ${SHOWS} shows; ${ROUNDS} round(s)`,
  );
  console.log(loadAverageLine(loadBefore, loadAfter));
  for (const s of summary)
    if (s.counts.errorSamples.length) console.log(`${s.checkout}: first errors: ${s.counts.errorSamples.join(' | ')}`);

  // The single-checkout fields (requestsPerSec … counts) are the first checkout's medians, as before.
  const firstSummary = summary[0];
  const path = writeResults(
    'edge-cpu-cluster',
    {
      at: new Date().toISOString(),
      settings: {
        checkouts: CHECKOUTS,
        rounds: ROUNDS,
        rate: RATE,
        seconds: SECONDS,
        warmup: WARMUP,
        concurrency: CONCURRENCY,
        shows: SHOWS,
        confirmEvery: CONFIRM_EVERY,
        sampleUs: SAMPLE_US,
        limitsOff: EDGE_LIMITS_OFF_ENV,
      },
      loadAverage: { before: loadBefore, after: loadAfter },
      ...(firstSummary
        ? {
            requestsPerSec: firstSummary.requestsPerSec,
            cpuUsPerRequest: firstSummary.cpuUsPerRequest,
            hops: firstSummary.hops,
            buckets: firstSummary.buckets,
            counts: firstSummary.counts,
          }
        : {}),
      summary,
      samples,
      failed: phases.failed,
    },
    opts.out,
  );
  console.log(`wrote ${path}`);
  return { failed: phases.failed };
}
