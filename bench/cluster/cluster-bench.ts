/**
 * The cluster bench. Two parts, one table each:
 *
 * 1. Routing hop: RemoteSeatService → NATS → WorkerEndpoint → LocalSeatService (in-memory
 *    node in a child process, so only the hop is measured), batched vs one op per request,
 *    beside a bare NATS request/reply ceiling (a responder that answers at once), same
 *    in-flight count, same run.
 * 2. Hold+confirm through a gateway's HTTP with 1, 2 and 3 workers (real processes from
 *    testkit/cluster.ts, real Postgres/JetStream/Redis): commands/s, p50/p99, and
 *    CPU-seconds per 1,000 commands summed over every cluster process (/proc utime+stime).
 *    On a 2-core box more processes than cores do not scale linearly: the generator, the
 *    gateway, the workers, NATS and Postgres all share the same two cores.
 *
 * 3. Failover (failover.ts): a worker of three SIGKILLed under load, per show the time to its
 *    first success.
 *
 * The command line is run.ts (`npm run bench:cluster`).
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';
import { connect, type NatsConnection } from 'nats';
import pino from 'pino';
import { createClient } from '../../src/client/index.ts';
import { OwnerBatcher, RemoteSeatService, StaticPlacement } from '../../src/cluster/index.ts';
import type { Bus, Catalog } from '../../src/core/ports.ts';
import { clusterSubjects } from '../../src/subjects.ts';
import { startCluster, type TestCluster } from '../../testkit/cluster.ts';
import { Histogram } from '../../testkit/histogram.ts';
import { pidsByName, snapshotCpu, cpuDelta } from '../lib/proc-cpu.ts';
import type { BenchOutcome } from '../lib/cli.ts';
import { Phases } from '../lib/phases.ts';
import { writeResults } from '../lib/results.ts';
import { runFailoverPhase } from './failover.ts';
import { benchShowInput } from '../../testkit/shows.ts';
import { formatNumber, renderTable } from '../lib/table.ts';

export const CLUSTER_PHASES = ['hop', 'cluster', 'failover'] as const;
export type ClusterPhase = (typeof CLUSTER_PHASES)[number];

export interface ClusterBenchOptions {
  phases: ClusterPhase[];
  hopSeconds: number;
  seconds: number;
  workerCounts: number[];
  concurrency: number;
  inFlight: number;
  /** Where cluster.json goes (default bench/results/cluster.json). */
  out?: string | undefined;
}

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const HOP_SHOWS = 20;
const WARMUP_MS = 1_500;

const logger = pino({ level: 'warn' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// 1. Routing hop
// ---------------------------------------------------------------------------------------

interface HopRow {
  path: string;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Request messages per op (1 unbatched, < 1 batched). */
  messagesPerOp: number;
  cpuSecPer1kOps: number;
}

async function startHopWorker(prefix: string): Promise<{ pid: number; bookings: string[]; stop(): Promise<void> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/cluster/hop-worker.ts'], {
    env: { ...process.env, HOP_PREFIX: prefix, HOP_SHOWS: String(HOP_SHOWS), NATS_URL },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const bookings = await new Promise<string[]>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (l) => l.startsWith('ready ') && resolve(JSON.parse(l.slice(6)) as string[]));
    proc.once('exit', (c) => reject(new Error(`hop worker exited ${c}`)));
  });
  return {
    pid: proc.pid!,
    bookings,
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/** Runs `inFlight` loops of `once`; measures `seconds` after a 1 s warm-up. */
async function timed(
  inFlight: number,
  seconds: number,
  once: (i: number) => Promise<unknown>,
  hist: Histogram,
  onStart: () => void,
): Promise<number> {
  let ops = 0;
  let measuring = false;
  let stop = false;
  const loops = Array.from({ length: inFlight }, async (_, i) => {
    while (!stop) {
      const t = performance.now();
      await once(i);
      if (measuring) {
        hist.recordMs(performance.now() - t);
        ops++;
      }
    }
  });
  await sleep(1_000);
  onStart();
  measuring = true;
  await sleep(seconds * 1_000);
  measuring = false;
  stop = true;
  await Promise.all(loops);
  return ops;
}

async function hopPhase(IN_FLIGHT: number, HOP_SECONDS: number): Promise<HopRow[]> {
  const prefix = `hopbench_${process.pid}`;
  const worker = await startHopWorker(prefix);
  const nc: NatsConnection = await connect({ servers: NATS_URL, name: 'hop-bench' });
  const rows: HopRow[] = [];
  const noCatalog = { list: async () => [] } as unknown as Catalog;
  const noBus = { subscribe: () => () => {}, publish: () => {}, close: async () => {} } as Bus;
  // Count request messages by wrapping the connection's request.
  let sent = 0;
  const realRequest = nc.request.bind(nc);
  (nc as { request: NatsConnection['request'] }).request = (subject, data, opts) => {
    sent++;
    return realRequest(subject, data, opts);
  };
  const pids = [process.pid, worker.pid];
  try {
    const measure = async (path: string, once: (i: number) => Promise<unknown>) => {
      const hist = new Histogram();
      let sent0 = 0;
      let cpu0 = snapshotCpu([{ label: 'hop', pids }]);
      const ops = await timed(IN_FLIGHT, HOP_SECONDS, once, hist, () => {
        sent0 = sent;
        cpu0 = snapshotCpu([{ label: 'hop', pids }]);
      });
      const cpu = cpuDelta(cpu0, snapshotCpu([{ label: 'hop', pids }])).hop;
      rows.push({
        path,
        opsPerSec: ops / HOP_SECONDS,
        p50Ms: hist.quantileMs(0.5),
        p99Ms: hist.quantileMs(0.99),
        messagesPerOp: (sent - sent0) / Math.max(1, ops),
        cpuSecPer1kOps: (cpu / Math.max(1, ops)) * 1000,
      });
      process.stdout.write(`  ${path}: ${formatNumber(ops / HOP_SECONDS)} ops/s\n`);
    };
    const service = (maxOps: number) =>
      new RemoteSeatService({
        placement: new StaticPlacement(null, ['hop']),
        batcher: new OwnerBatcher({
          nc,
          subjectOf: clusterSubjects(prefix).commands,
          maxOps,
          ...(maxOps === 1 ? { maxInFlightPerOwner: IN_FLIGHT } : {}),
        }),
        catalog: noCatalog,
        bus: noBus,
        requestTimeoutMs: 10_000,
        attemptTimeoutMs: 5_000,
        logger,
      });

    // The ceiling: one NATS request per op, answered at once, a payload the size of an op.
    const payload = new TextEncoder().encode(
      JSON.stringify({
        inbox: '_INBOX.hopbench',
        ops: [{ id: 1, showId: 'hop-1', method: 'getBooking', req: { bookingId: worker.bookings[1] } }],
      }),
    );
    await measure(BARE, () => realRequest(`${prefix}.bare`, payload, { timeout: 5_000 }).then(() => sent++));

    const read = (svc: RemoteSeatService) => (i: number) => svc.getBooking(`hop-${i % HOP_SHOWS}`, worker.bookings[i % HOP_SHOWS]);
    await measure(UNBATCHED, read(service(1)));
    await measure(BATCHED, read(service(128)));

    // The same hop carrying writes: each loop alternates hold and release on one show.
    const writer = service(128);
    const held = new Map<number, { holdId: string; holdToken: string; showId: string }>();
    await measure(BATCHED_WRITES, async (i) => {
      const h = held.get(i);
      if (h) {
        held.delete(i);
        await writer.release(h.showId, h.holdId, h.holdToken);
      } else {
        const showId = `hop-${i % HOP_SHOWS}`;
        const g = await writer.hold(showId, { count: 1 });
        held.set(i, { holdId: g.holdId, holdToken: g.holdToken, showId });
      }
    });
  } finally {
    await nc.close();
    await worker.stop();
  }
  return rows;
}

const BARE = 'bare NATS request/reply, 1 per op (ceiling)';
const UNBATCHED = 'RemoteSeatService.getBooking, 1 op/message';
const BATCHED = 'RemoteSeatService.getBooking, packed';
const BATCHED_WRITES = 'RemoteSeatService hold/release, packed';

// ---------------------------------------------------------------------------------------
// 2. Hold + confirm through a gateway
// ---------------------------------------------------------------------------------------

interface ClusterRow {
  workers: number;
  commandsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  clusterCpuSec: number;
  cpuSecPer1kCommands: number;
  serversCpuSec: number;
  generatorCpuSec: number;
}

// Raw keep-alive HTTP for the measured loop: one request per command, no client-side keys or retries in the figures.
function post(
  agent: Agent,
  base: URL,
  path: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function clusterPhase(workers: number, CONCURRENCY: number, SECONDS: number): Promise<ClusterRow> {
  // startCluster switches the edge limits off: every client of this bench is 127.0.0.1.
  const cluster: TestCluster = await startCluster({ workers, gateways: 1 });
  try {
    const base = new URL(cluster.gateways[0].url);
    const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    // Enough seats for every confirm of the run: 40 shows × 1,000 seats.
    const shows = Array.from({ length: 40 }, (_, i) => `bench-${i}`);
    const admin = createClient({ url: cluster.gateways[0].url, adminToken: cluster.adminToken });
    for (const id of shows) await admin.createShow(benchShowInput(id, 20, 50));
    const hist = new Histogram();
    let commands = 0;
    let errors = 0;
    let measuring = false;
    let stop = false;
    const holdBody = JSON.stringify({ count: 1 });
    const loops = Array.from({ length: CONCURRENCY }, async (_, i) => {
      let n = i;
      while (!stop) {
        const showId = shows[n++ % shows.length];
        let t = performance.now();
        const h = await post(agent, base, `/v1/shows/${showId}/holds`, holdBody);
        if (measuring) {
          hist.recordMs(performance.now() - t);
          commands++;
        }
        if (h.status !== 201) {
          if (measuring) errors++;
          continue;
        }
        const { holdId, holdToken } = JSON.parse(h.body) as { holdId: string; holdToken: string };
        t = performance.now();
        const c = await post(agent, base, `/v1/shows/${showId}/holds/${holdId}/confirm`, '{}', { 'hold-token': holdToken });
        if (measuring) {
          hist.recordMs(performance.now() - t);
          commands++;
          if (c.status !== 201) errors++;
        }
      }
    });
    await sleep(WARMUP_MS);
    const groups = () => [
      { label: 'cluster', pids: [...cluster.workers, ...cluster.gateways].map((p) => p.proc.pid!) },
      { label: 'servers', pids: [...pidsByName('nats-server'), ...pidsByName('redis-server'), ...pidsByName('postgres')] },
      { label: 'generator', pids: [process.pid] },
    ];
    const cpu0 = snapshotCpu(groups());
    measuring = true;
    await sleep(SECONDS * 1_000);
    measuring = false;
    const cpu = cpuDelta(cpu0, snapshotCpu(groups()));
    stop = true;
    await Promise.all(loops);
    agent.destroy();
    const row = {
      workers,
      commandsPerSec: commands / SECONDS,
      p50Ms: hist.quantileMs(0.5),
      p99Ms: hist.quantileMs(0.99),
      errors,
      clusterCpuSec: cpu.cluster,
      cpuSecPer1kCommands: (cpu.cluster / Math.max(1, commands)) * 1000,
      serversCpuSec: cpu.servers,
      generatorCpuSec: cpu.generator,
    };
    process.stdout.write(`  ${workers} worker(s): ${formatNumber(row.commandsPerSec)} commands/s\n`);
    return row;
  } finally {
    await cluster.stop();
  }
}

// ---------------------------------------------------------------------------------------

export async function run(opts: ClusterBenchOptions): Promise<BenchOutcome> {
  const {
    phases: PHASES,
    hopSeconds: HOP_SECONDS,
    seconds: SECONDS,
    workerCounts: WORKER_COUNTS,
    concurrency: CONCURRENCY,
    inFlight: IN_FLIGHT,
  } = opts;
  const started = Date.now();
  const phases = new Phases();
  process.stdout.write('routing hop…\n');
  const hop = PHASES.includes('hop') ? ((await phases.run('hop', () => hopPhase(IN_FLIGHT, HOP_SECONDS))) ?? []) : [];
  process.stdout.write('hold+confirm through a gateway…\n');
  const cluster: ClusterRow[] = [];
  if (PHASES.includes('cluster'))
    for (const w of WORKER_COUNTS) {
      const row = await phases.run(`cluster ${w} worker(s)`, () => clusterPhase(w, CONCURRENCY, SECONDS));
      if (row) cluster.push(row);
    }

  const failover = PHASES.includes('failover') ? await phases.run('failover', () => runFailoverPhase()) : null;

  const bare = hop.find((r) => r.path === BARE)?.opsPerSec ?? NaN;
  const batched = hop.find((r) => r.path === BATCHED)?.opsPerSec ?? NaN;
  const unbatched = hop.find((r) => r.path === UNBATCHED)?.opsPerSec ?? NaN;
  console.log(`\nRouting hop (${IN_FLIGHT} in flight, ${HOP_SECONDS} s each; client and worker CPU)`);
  console.log(
    renderTable(
      ['path', 'ops/s', 'p50 ms', 'p99 ms', 'msgs/op', 'CPU s/1k ops'],
      hop.map((r) => [
        r.path,
        formatNumber(r.opsPerSec),
        formatNumber(r.p50Ms, 2),
        formatNumber(r.p99Ms, 2),
        formatNumber(r.messagesPerOp, 3),
        formatNumber(r.cpuSecPer1kOps, 3),
      ]),
    ),
  );
  console.log(`packed / bare ceiling: ${(batched / bare).toFixed(2)}×; packed / unpacked: ${(batched / unbatched).toFixed(2)}×`);
  console.log(`\nHold+confirm through 1 gateway's HTTP (${CONCURRENCY} clients, ${SECONDS} s; CPU of every cluster process)`);
  console.log(
    renderTable(
      ['workers', 'commands/s', 'p50 ms', 'p99 ms', 'errors', 'cluster CPU s', 'CPU s/1k cmds', 'pg+nats+redis CPU s', 'generator CPU s'],
      cluster.map((r) => [
        r.workers,
        formatNumber(r.commandsPerSec),
        formatNumber(r.p50Ms, 2),
        formatNumber(r.p99Ms, 2),
        r.errors,
        formatNumber(r.clusterCpuSec, 2),
        formatNumber(r.cpuSecPer1kCommands, 3),
        formatNumber(r.serversCpuSec, 2),
        formatNumber(r.generatorCpuSec, 2),
      ]),
    ),
  );
  console.log('2 cores: the generator, gateway, workers, NATS and Postgres share them, so more workers add processes, not cores.');
  if (failover) {
    console.log('\nFailover');
    console.log(renderTable(failover.table.headers, failover.table.rows));
  }
  const path = writeResults(
    'cluster',
    {
      when: new Date().toISOString(),
      machine: { cpus: cpus().length },
      settings: { hopSeconds: HOP_SECONDS, seconds: SECONDS, concurrency: CONCURRENCY, inFlight: IN_FLIGHT, phases: PHASES },
      routingHop: { rows: hop, batchedOverBare: batched / bare, batchedOverUnbatched: batched / unbatched },
      holdConfirm: cluster,
      failover: failover?.json ?? null,
      failedPhases: phases.failed,
      durationSec: (Date.now() - started) / 1000,
    },
    opts.out,
  );
  console.log(`\nwrote ${path} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { failed: phases.failed };
}
