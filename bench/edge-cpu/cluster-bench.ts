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
 * EDGE_LIMITS_OFF_ENV), as for any load from one loopback address. A failed start or
 * measurement is reported and fails the bench; the cluster is stopped either way. The command
 * line is run-cluster.ts.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { startCluster, type ClusterProcess } from '../../testkit/cluster.ts';
import { EDGE_LIMITS_OFF_ENV } from '../../testkit/spawn-server.ts';
import type { BenchOutcome } from '../lib/cli.ts';
import { foldProfile, InspectorProfiler, inspectorUrlOf, threadCpuSec } from '../lib/cpu-profile.ts';
import { readProcStat, ticksPerSecond } from '../lib/proc-cpu.ts';
import { Phases } from '../lib/phases.ts';
import { writeJson, writeResults } from '../lib/results.ts';
import { benchShowInput } from '../../testkit/shows.ts';
import { formatNumber, renderTable } from '../lib/table.ts';
import { EdgeLoad } from './load.ts';

export interface EdgeCpuClusterBenchOptions {
  /** Seconds of each window (plain, then profiled). */
  seconds: number;
  warmupSeconds: number;
  /** Keep-alive clients. */
  concurrency: number;
  shows: number;
  /** Every n-th cycle confirms instead of releasing. */
  confirmEvery: number;
  /** Requests/s offered (0: closed loop). */
  rate: number;
  /** Sampling interval of the profilers, µs. */
  sampleUs: number;
  /** A folder to keep the raw .cpuprofile of each process in (open it in Chrome DevTools). */
  saveProfiles?: string | undefined;
  /** Results file (default bench/results/edge-cpu-cluster.json). */
  out?: string | undefined;
}

const ROWS = 100;
const SEATS_PER_ROW = 100;
const ROOT = resolve('.');

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

/** One run: start the cluster, load it, the plain then the profiled window; the results written. */
async function measure(opts: EdgeCpuClusterBenchOptions, loadBefore: number[]): Promise<void> {
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
    const perRequest = (sec: number) => (sec * 1e6) / requests;
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
      writeJson(join(SAVE_PROFILES, 'edge-cpu-cluster-gateway.cpuprofile'), gp);
      writeJson(join(SAVE_PROFILES, 'edge-cpu-cluster-worker.cpuprofile'), wp);
    }

    const usOf = (folded: Record<string, number>, mainUs: number) => {
      const total = Object.values(folded).reduce((a, b) => a + b, 0);
      return Object.fromEntries(Object.entries(folded).map(([k, v]) => [k, (v / total) * mainUs]));
    };
    const buckets = { gateway: usOf(foldProfile(gp, ROOT), cpu.gateway.main), worker: usOf(foldProfile(wp, ROOT), cpu.worker.main) };

    const rows: Array<[string, number]> = [];
    for (const h of HOPS) rows.push([h.hop, h.buckets.reduce((a, b) => a + (buckets[h.process][b] ?? 0), 0)]);
    for (const p of ['gateway', 'worker'] as const) {
      const named = new Set(HOPS.filter((h) => h.process === p).flatMap((h) => h.buckets));
      const gc = buckets[p]['(gc)'] ?? 0;
      const rest = Object.entries(buckets[p]).reduce((a, [k, v]) => (named.has(k) || k === '(gc)' ? a : a + v), 0);
      rows.push(
        [`${p}: gc`, gc],
        [`${p}: other (program, timers, metrics, logs)`, rest],
        [`${p}: other threads (/proc)`, cpu[p].process - cpu[p].main],
      );
    }
    const table = [
      ['requests/s', formatNumber(requests / seconds)],
      ['gateway process total (/proc)', formatNumber(cpu.gateway.process, 1)],
      ['worker process total (/proc)', formatNumber(cpu.worker.process, 1)],
      ...rows.map(([hop, us]) => [`  ${hop}`, formatNumber(us, 1)]),
      ['errors', String(load.counts.errors)],
    ];
    console.log(renderTable(['µs CPU per request (1 gateway + 1 worker)', 'µs'], table));
    const loadAfter = loadavg();
    console.log(
      `\noffered: ${RATE > 0 ? `${RATE} requests/s` : 'closed loop'}; mix: 1 hold : ${formatNumber((CONFIRM_EVERY - 1) / CONFIRM_EVERY, 2)} release : ${formatNumber(1 / CONFIRM_EVERY, 2)} confirm, every request keyed; ${CONCURRENCY} keep-alive clients, ${SHOWS} shows`,
    );
    console.log(
      `load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`,
    );
    if (load.counts.errorSamples.length) console.log(`first errors: ${load.counts.errorSamples.join(' | ')}`);
    const path = writeResults(
      'edge-cpu-cluster',
      {
        at: new Date().toISOString(),
        settings: {
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
        requestsPerSec: requests / seconds,
        cpuUsPerRequest: cpu,
        hops: Object.fromEntries(rows),
        buckets,
        counts: load.counts,
      },
      opts.out,
    );
    console.log(`wrote ${path}`);
  } finally {
    await cluster.stop();
  }
}

export async function run(opts: EdgeCpuClusterBenchOptions): Promise<BenchOutcome> {
  const phases = new Phases();
  const loadBefore = loadavg();
  await phases.run('cluster', () => measure(opts, loadBefore));
  return { failed: phases.failed };
}
