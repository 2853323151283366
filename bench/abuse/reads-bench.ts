// Abuse bench, cheap reads: does re-reading a big seat map stall everyone else?
// Starts the embedded all-in-one server, creates a 200,000-seat show, then times GET
// /healthz (one probe at a time) while idle, while 8 clients loop over the full map, and
// while they loop over the compact map; optionally while seats keep changing too.
// The command line is run.ts (`npm run bench:abuse`).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, SeatClientError } from '../../src/client/index.ts';
import { freePort } from '../../testkit/free-port.ts';
import { Histogram } from '../../testkit/histogram.ts';
import { writeResults } from '../lib/results.ts';
import { benchShowInput } from '../../testkit/shows.ts';
import { formatNumber, renderTable } from '../lib/table.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export interface AbuseReadsOptions {
  seats: number;
  clients: number;
  durationMs: number;
  idleMs: number;
  /** Pause between /healthz probes, ms. */
  probeIntervalMs: number;
  /** Extra node flags for the server process (e.g. `--cpu-prof`). */
  serverNodeArgs: string[];
  out?: string | undefined;
}

const PER_ROW = 1000;
const ADMIN_TOKEN = 'abuse-bench-admin-token';
const SHOW_ID = 'abuse-big';
const READY_TIMEOUT_MS = 30_000;

interface ReaderReport {
  reads: number;
  errors: number;
  bytes: number;
  seconds: number;
  readsPerSec: number;
  mbPerSec: number;
  wireMbPerSec: number;
  bodyBytes: number;
  wireBodyBytes: number;
  readP50Ms: number;
  readP99Ms: number;
  versionsSeen: number;
}

/**
 * The server's own event-loop delay over a phase (prom-client's monitor, reset by every
 * scrape): what the server did to itself, apart from the machine's other load.
 */
async function loopDelay(url: string): Promise<{ p50Ms: number; p99Ms: number; maxMs: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return {
    p50Ms: gauge('nodejs_eventloop_lag_p50_seconds'),
    p99Ms: gauge('nodejs_eventloop_lag_p99_seconds'),
    maxMs: gauge('nodejs_eventloop_lag_max_seconds'),
  };
}

interface PhaseResult {
  phase: string;
  serverLoopDelay: { p50Ms: number; p99Ms: number; maxMs: number };
  healthz: { samples: number; p50Ms: number; p99Ms: number; maxMs: number };
  readers: ReaderReport | null;
  commits?: number;
}

function summary(h: Histogram): PhaseResult['healthz'] {
  return { samples: h.total, p50Ms: h.quantileMs(0.5), p99Ms: h.quantileMs(0.99), maxMs: h.maxUs / 1000 };
}

export async function run(opts: AbuseReadsOptions): Promise<void> {
  const {
    seats: SEATS,
    clients: CLIENTS,
    durationMs: DURATION_MS,
    idleMs: IDLE_MS,
    probeIntervalMs: PROBE_INTERVAL_MS,
    serverNodeArgs: SERVER_NODE_ARGS,
  } = opts;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function startServer(): Promise<{ url: string; stop: () => Promise<void>; dataDir: string }> {
    const dataDir = mkdtempSync(join(tmpdir(), 'abuse-bench-'));
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['NATS_URL', 'DATABASE_URL', 'REDIS_URL', 'ROLE', 'NODE_ID']) delete env[k];
    Object.assign(env, {
      PORT: String(port),
      GRPC_PORT: String(await freePort()),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
      DEMO_SHOW: '0',
      // The bench drives many requests from one address: limits it needs, set explicitly.
      RATE_LIMIT_HOLDS_PER_MINUTE: '0',
    });
    const nodeArgs = SERVER_NODE_ARGS;
    const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const keep = (d: Buffer) => (tail = (tail + d.toString()).slice(-4000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`server exited: ${tail}`);
      try {
        if ((await fetch(`${url}/readyz`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`server not ready: ${tail}`);
      await sleep(150);
    }
    return {
      url,
      dataDir,
      stop: async () => {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }

  /** Times /healthz one probe after another (a pause between) until `stop` resolves. */
  async function probe(url: string, until: Promise<unknown>): Promise<Histogram> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const h = new Histogram();
    let done = false;
    void until.then(() => (done = true));
    while (!done) {
      const t = performance.now();
      await new Promise<void>((res, rej) => {
        const req = request(`${url}/healthz`, { agent }, (r) => {
          r.resume();
          r.on('end', () => res());
        });
        req.on('error', rej);
        req.end();
      });
      h.recordMs(performance.now() - t);
      if (PROBE_INTERVAL_MS) await sleep(PROBE_INTERVAL_MS);
    }
    agent.destroy();
    return h;
  }

  function runReaders(target: string, gzip: boolean): Promise<ReaderReport> {
    return new Promise((res, rej) => {
      const args = ['--import', 'tsx', 'bench/abuse/readers.ts', target, String(CLIENTS), String(DURATION_MS), ...(gzip ? ['gzip'] : [])];
      const child = spawn(process.execPath, args, {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.once('exit', (code) => {
        if (code !== 0) return rej(new Error(`readers exited with ${code}`));
        try {
          res(JSON.parse(out.trim().split('\n').pop() ?? '') as ReaderReport);
        } catch (err) {
          rej(err);
        }
      });
    });
  }

  /** Keeps seats changing (hold then release, one at a time) until `until` resolves; returns commits made. */
  async function churn(url: string, until: Promise<unknown>): Promise<number> {
    let done = false;
    void until.then(() => (done = true));
    let commits = 0;
    let i = 0;
    // One attempt per call: a refused hold is skipped, not retried, so the churn rate stays the bench's.
    const seats = createClient({ url, attempts: 1 });
    const refused = (err: unknown): undefined => {
      if (!(err instanceof SeatClientError)) throw err;
      return undefined;
    };
    while (!done) {
      const seat = `R${i % 200}-${(i % PER_ROW) + 1}`;
      i++;
      const h = await seats.hold(SHOW_ID, { seats: [seat] }).catch(refused);
      if (!h) continue;
      commits++;
      if (await seats.release(SHOW_ID, h.holdId, h.holdToken).then(() => true, refused)) commits++;
      await sleep(20);
    }
    return commits;
  }

  async function main(): Promise<void> {
    const server = await startServer();
    const results: PhaseResult[] = [];
    try {
      const rows = Math.ceil(SEATS / PER_ROW);
      await createClient({ url: server.url, adminToken: ADMIN_TOKEN }).createShow(benchShowInput(SHOW_ID, rows, PER_ROW));
      process.stderr.write(`show ${SHOW_ID}: ${rows * PER_ROW} seats\n`);

      await loopDelay(server.url);
      const idleDone = sleep(IDLE_MS);
      const idle = summary(await probe(server.url, idleDone));
      results.push({ phase: 'idle', healthz: idle, serverLoopDelay: await loopDelay(server.url), readers: null });

      const full = `/v1/shows/${SHOW_ID}`;
      const phases: Array<{ phase: string; path: string; churn: boolean; gzip: boolean }> = [
        { phase: `${CLIENTS} readers, full map`, path: full, churn: false, gzip: false },
        { phase: `${CLIENTS} readers, full map, gzip`, path: full, churn: false, gzip: true },
        { phase: `${CLIENTS} readers, compact map`, path: `${full}?format=compact`, churn: false, gzip: false },
        { phase: `${CLIENTS} readers, full map, gzip, seats changing`, path: full, churn: true, gzip: true },
      ];
      for (const p of phases) {
        process.stderr.write(`phase: ${p.phase}\n`);
        await loopDelay(server.url);
        const readers = runReaders(`${server.url}${p.path}`, p.gzip);
        const commits = p.churn ? churn(server.url, readers) : undefined;
        const healthz = await probe(server.url, readers);
        const report = await readers;
        results.push({
          phase: p.phase,
          healthz: summary(healthz),
          serverLoopDelay: await loopDelay(server.url),
          readers: report,
          ...(commits !== undefined ? { commits: await commits } : {}),
        });
      }
    } finally {
      await server.stop();
    }

    const table = renderTable(
      [
        'phase',
        '/healthz n',
        'p50 ms',
        'p99 ms',
        'max ms',
        'loop p99 ms',
        'loop max ms',
        'reads/s',
        'MB/s',
        'wire MB/s',
        'body KB',
        'read p99 ms',
        'versions',
      ],
      results.map((r) => [
        r.phase,
        r.healthz.samples,
        formatNumber(r.healthz.p50Ms, 2),
        formatNumber(r.healthz.p99Ms, 2),
        formatNumber(r.healthz.maxMs, 1),
        formatNumber(r.serverLoopDelay.p99Ms, 1),
        formatNumber(r.serverLoopDelay.maxMs, 1),
        r.readers ? formatNumber(r.readers.readsPerSec, 1) : null,
        r.readers ? formatNumber(r.readers.mbPerSec, 0) : null,
        r.readers ? formatNumber(r.readers.wireMbPerSec, 0) : null,
        r.readers ? formatNumber(r.readers.bodyBytes / 1024, 0) : null,
        r.readers ? formatNumber(r.readers.readP99Ms, 0) : null,
        r.readers ? r.readers.versionsSeen : null,
      ]),
    );
    process.stdout.write(`${table}\n`);
    const path = writeResults(
      'abuse',
      {
        bench: 'abuse (cheap reads)',
        at: new Date().toISOString(),
        machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', node: process.version },
        params: { seats: SEATS, clients: CLIENTS, durationMs: DURATION_MS, idleMs: IDLE_MS, probeIntervalMs: PROBE_INTERVAL_MS },
        results,
      },
      opts.out,
    );
    process.stdout.write(`wrote ${path}\n`);
  }

  return main();
}
