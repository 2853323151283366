/**
 * startCluster: a real cluster of separate node processes on loopback, against the shared
 * Postgres, NATS and Redis, isolated from every other test and cluster by its own database,
 * JetStream stream, subject prefixes and Redis key prefix.
 *
 *   const cluster = await startCluster({ workers: 3, gateways: 1 });
 *   try {
 *     const r = await cluster.request('POST', '/v1/shows', showInput('s1'), { admin: true });
 *     await cluster.killWorker(0, 'SIGKILL');
 *     await cluster.waitForMembers(2);
 *   } finally {
 *     await cluster.stop(); // kills every process, drops the DB, deletes the stream and keys
 *   }
 *
 * Every process runs `node --import tsx src/main.ts` (in `cwd`, default the current directory)
 * with ROLE=worker or ROLE=gateway, PORT=0
 * and GRPC_PORT=0; the harness learns the ports from the 'listening' log line and waits for
 * /readyz. startCluster resolves once every gateway and worker sees all workers in its ring.
 *
 * - gateways[i]: { nodeId, url (HTTP), ws (ws://…/v1/ws), grpc (host:port), proc, … }
 * - workers[i]: { nodeId, url (health/metrics/debug), proc, … }; a killed one stays in the
 *   array with `alive` false, so indices are stable.
 * - Debug routes on every process: GET /v1/cluster/members, /v1/cluster/owner/{showId},
 *   /v1/cluster/stats (a worker's endpoint message/op counters).
 * - Output of the processes is dropped unless CLUSTER_LOGS=1 (then prefixed to stderr).
 *
 * Keep process counts modest: the test box has 2 cores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import pg from 'pg';
import { SERVICE_URLS, uniqueName } from './services.ts';
import { EDGE_LIMITS_OFF_ENV } from './spawn-server.ts';
import { deleteSeatStreamsAt } from './seat-streams.ts';
import { until } from './wait.ts';

export interface ClusterOptions {
  workers?: number;
  gateways?: number;
  /** Env for every process (e.g. HEARTBEAT_INTERVAL_MS, MEMBER_TTL_MS, BATCH_MAX_OPS). */
  env?: Record<string, string>;
  /** Extra env for workers only / gateways only. */
  workerEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  /** Max time to wait for the whole cluster to be up. */
  startTimeoutMs?: number;
  /** A Redis of the test's own (e.g. a private server it stops and starts); default: the shared one. */
  redisUrl?: string;
  /** A NATS server of the test's own (fault tests kill it) instead of the shared one. */
  natsUrl?: string;
  /** Admin URLs of the servers to use instead of the shared ones (e.g. private servers a fault suite may kill). */
  services?: { postgres: string; nats: string; redis: string };
  /** The checkout whose src/main.ts every process runs (its own src/ and node_modules); default: the current directory. */
  cwd?: string;
}

export interface AddWorkerOptions {
  /** Reuse a node id (a restart, or an operator's duplicate); default a fresh one. */
  nodeId?: string;
  /** Wait until it is ready and every process sees it (default true); false: resolve once it listens. */
  waitReady?: boolean;
}

export interface ClusterProcess {
  nodeId: string;
  role: 'worker' | 'gateway';
  /** HTTP base URL (a worker: health, metrics and debug routes only). */
  url: string;
  proc: ChildProcess;
  alive: boolean;
  /** The exit code or signal once the process is gone. */
  exited: Promise<number | NodeJS.Signals | null>;
  /** Recent output lines (the last 200), for failure messages. */
  output: string[];
}

export interface GatewayProcess extends ClusterProcess {
  role: 'gateway';
  /** WebSocket URL (ws://127.0.0.1:port/v1/ws). */
  ws: string;
  /** gRPC target (127.0.0.1:port). */
  grpc: string;
}

export interface WorkerProcess extends ClusterProcess {
  role: 'worker';
}

export interface HttpAnswer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  /** Send the admin bearer token. */
  admin?: boolean;
  headers?: Record<string, string>;
  /** Which gateway (default 0). */
  gateway?: number;
}

export interface TestCluster {
  gateways: GatewayProcess[];
  workers: WorkerProcess[];
  adminToken: string;
  holdTokenSecret: string;
  databaseName: string;
  databaseUrl: string;
  stream: string;
  eventSubjectPrefix: string;
  busSubjectPrefix: string;
  clusterPrefix: string;
  /** The env every process of this cluster shares (URLs, prefixes, secrets). */
  env: Record<string, string>;
  /** Starts one more worker and (unless `waitReady` is false) waits until every live process sees it. */
  addWorker(env?: Record<string, string>, opts?: AddWorkerOptions): Promise<WorkerProcess>;
  /** Starts worker i again under its node id (after it exited) and (unless `waitReady` is false) waits until every live process sees it. */
  restartWorker(i: number, env?: Record<string, string>, opts?: Pick<AddWorkerOptions, 'waitReady'>): Promise<WorkerProcess>;
  /** Signals worker i; resolves at once for SIGSTOP/SIGCONT, else once it exited. */
  killWorker(i: number, signal?: NodeJS.Signals): Promise<number | NodeJS.Signals | null>;
  /** JSON over HTTP to a gateway. */
  request<T = any>(method: string, path: string, body?: unknown, opts?: RequestOptions): Promise<HttpAnswer<T>>;
  /** The ring as process `p` sees it (default: gateway 0). */
  members(p?: ClusterProcess): Promise<string[]>;
  /** The owner of a show as process `p` sees it (default: gateway 0). */
  ownerOf(showId: string, p?: ClusterProcess): Promise<string | null>;
  /** Waits until every live process sees exactly `expected` (a count, or the node ids). */
  waitForMembers(expected: number | string[], timeoutMs?: number): Promise<string[]>;
  /** The sum of a metric (all label sets) on a process's /metrics. */
  metric(p: ClusterProcess, name: string, labels?: Record<string, string>): Promise<number>;
  /** Kills every process (SIGKILL after a grace), drops the DB, deletes the stream and Redis keys. */
  stop(): Promise<void>;
}

const MAIN = 'src/main.ts';
const DEFAULT_START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 3_000;
const OUTPUT_LINES_KEPT = 200;

async function pgAdmin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

function dbUrl(adminUrl: string, name: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

export { until };

function spawnNode(
  role: 'worker' | 'gateway',
  nodeId: string,
  env: Record<string, string>,
  timeoutMs: number,
  cwd: string | undefined,
): Promise<ClusterProcess & { grpcPort?: number }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    ...(cwd !== undefined ? { cwd } : {}),
    env: {
      ...process.env,
      ...env,
      ROLE: role,
      NODE_ID: nodeId,
      PORT: '0',
      GRPC_PORT: '0',
      HOST: '127.0.0.1',
      DEMO_SHOW: '0',
      LOG_LEVEL: env.LOG_LEVEL ?? 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (line: string) => {
    output.push(line);
    if (output.length > OUTPUT_LINES_KEPT) output.shift();
    if (process.env.CLUSTER_LOGS === '1') process.stderr.write(`[${nodeId}] ${line}\n`);
  };
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)));
  createInterface({ input: proc.stderr! }).on('line', keep);
  return new Promise((resolve, reject) => {
    let started = false;
    const timer = setTimeout(() => {
      if (started) return;
      proc.kill('SIGKILL');
      reject(new Error(`${nodeId} did not start within ${timeoutMs} ms:\n${output.slice(-20).join('\n')}`));
    }, timeoutMs);
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      keep(line);
      if (started) return;
      try {
        const entry = JSON.parse(line) as { url?: string; msg?: string; grpcPort?: number };
        if (entry.url && entry.msg?.startsWith('listening')) {
          started = true;
          clearTimeout(timer);
          const p: ClusterProcess & { grpcPort?: number } = { nodeId, role, url: entry.url, proc, alive: true, exited, output };
          if (entry.grpcPort !== undefined) p.grpcPort = entry.grpcPort;
          void exited.then(() => (p.alive = false));
          resolve(p);
        }
      } catch {
        // not a log line
      }
    });
    void exited.then((code) => {
      if (!started) {
        clearTimeout(timer);
        reject(new Error(`${nodeId} exited (${String(code)}) before listening:\n${output.slice(-20).join('\n')}`));
      }
    });
  });
}

export async function startCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const workerCount = opts.workers ?? 3;
  const gatewayCount = opts.gateways ?? 1;
  const startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  // Private servers a fault test may kill: the whole set, or just its NATS or Redis.
  const base = opts.services ?? SERVICE_URLS;
  const services = { ...base, nats: opts.natsUrl ?? base.nats, redis: opts.redisUrl ?? base.redis };
  const id = uniqueName('cl').toLowerCase();
  const databaseName = `seats_${id}`;
  const stream = `S_${id}`;
  const eventSubjectPrefix = `${id}.events`;
  const busSubjectPrefix = `${id}.bus`;
  const clusterPrefix = id;
  const adminToken = randomBytes(18).toString('base64url');
  const holdTokenSecret = randomBytes(24).toString('base64url');
  await pgAdmin(services.postgres, (c) => c.query(`CREATE DATABASE ${databaseName}`));
  const databaseUrl = dbUrl(services.postgres, databaseName);
  const env: Record<string, string> = {
    NATS_URL: services.nats,
    DATABASE_URL: databaseUrl,
    REDIS_URL: services.redis,
    ADMIN_TOKEN: adminToken,
    HOLD_TOKEN_SECRET: holdTokenSecret,
    CLUSTER_PREFIX: clusterPrefix,
    NATS_STREAM: stream,
    EVENT_SUBJECT_PREFIX: eventSubjectPrefix,
    BUS_SUBJECT_PREFIX: busSubjectPrefix,
    // Edge limits off unless opts.env sets them: the tests drive every client from 127.0.0.1.
    ...EDGE_LIMITS_OFF_ENV,
    ...opts.env,
  };
  const gateways: GatewayProcess[] = [];
  const workers: WorkerProcess[] = [];
  let nextWorker = 0;
  const all = (): ClusterProcess[] => [...workers, ...gateways].filter((p) => p.alive);

  const getJson = async (url: string): Promise<any> => {
    const r = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!r.ok) throw new Error(`${url} answered ${r.status}`);
    return r.json();
  };
  const members = async (p: ClusterProcess = gateways[0]) =>
    ((await getJson(`${p.url}/v1/cluster/members`)) as { members: string[] }).members;
  const ownerOf = async (showId: string, p: ClusterProcess = gateways[0]) =>
    ((await getJson(`${p.url}/v1/cluster/owner/${encodeURIComponent(showId)}`)) as { owner: string | null }).owner;
  const waitForMembers = (expected: number | string[], timeoutMs = 15_000) =>
    until(
      async () => {
        let seen: string[] = [];
        for (const p of all()) {
          seen = await members(p);
          const ok = typeof expected === 'number' ? seen.length === expected : [...expected].sort().join() === seen.join();
          if (!ok) return false;
        }
        return seen;
      },
      timeoutMs,
      `every process to see ${JSON.stringify(expected)} workers`,
    );

  const startWorkerProc = async (
    extra: Record<string, string> = {},
    nodeId = `w${nextWorker++}-${id.slice(-6)}`,
    waitReady = true,
  ): Promise<WorkerProcess> => {
    const p = (await spawnNode('worker', nodeId, { ...env, ...opts.workerEnv, ...extra }, startTimeoutMs, opts.cwd)) as WorkerProcess;
    if (waitReady) await until(async () => (await fetch(`${p.url}/readyz`)).ok, startTimeoutMs, `${nodeId} ready`);
    return p;
  };

  const stop = async () => {
    await Promise.allSettled(
      [...workers, ...gateways].map(async (p) => {
        if (!p.alive) return;
        p.proc.kill('SIGCONT');
        p.proc.kill('SIGTERM');
        const t = setTimeout(() => p.proc.kill('SIGKILL'), STOP_GRACE_MS);
        await p.exited;
        clearTimeout(t);
      }),
    );
    await Promise.allSettled([
      pgAdmin(services.postgres, (c) => c.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`)),
      deleteSeatStreamsAt(services.nats, stream),
      (async () => {
        const redis = new Redis(services.redis, { lazyConnect: true, maxRetriesPerRequest: 1 });
        try {
          await redis.connect();
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${clusterPrefix}:*`, 'COUNT', 1000);
            cursor = next;
            if (keys.length > 0) await redis.del(...keys);
          } while (cursor !== '0');
        } finally {
          redis.disconnect();
        }
      })(),
    ]);
  };

  try {
    // Workers first (migrations serialize on an advisory lock), then the gateways.
    workers.push(...(await Promise.all(Array.from({ length: workerCount }, () => startWorkerProc()))));
    const started = await Promise.all(
      Array.from({ length: gatewayCount }, (_, i) =>
        spawnNode('gateway', `g${i}-${id.slice(-6)}`, { ...env, ...opts.gatewayEnv }, startTimeoutMs, opts.cwd),
      ),
    );
    for (const p of started) {
      const port = new URL(p.url).port;
      gateways.push({ ...p, role: 'gateway', ws: `ws://127.0.0.1:${port}/v1/ws`, grpc: `127.0.0.1:${p.grpcPort ?? 0}` } as GatewayProcess);
      void p.exited.then(() => (gateways.find((g) => g.nodeId === p.nodeId)!.alive = false));
    }
    for (const g of gateways) await until(async () => (await fetch(`${g.url}/readyz`)).ok, startTimeoutMs, `${g.nodeId} ready`);
    if (workerCount > 0) await waitForMembers(workerCount, startTimeoutMs);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    gateways,
    workers,
    adminToken,
    holdTokenSecret,
    databaseName,
    databaseUrl,
    stream,
    eventSubjectPrefix,
    busSubjectPrefix,
    clusterPrefix,
    env,
    async addWorker(extra, aopts = {}) {
      const waitReady = aopts.waitReady ?? true;
      const w = await startWorkerProc(extra, aopts.nodeId, waitReady);
      workers.push(w);
      if (waitReady) await waitForMembers(workers.filter((x) => x.alive).map((x) => x.nodeId));
      return w;
    },
    async restartWorker(i, extra, ropts = {}) {
      const old = workers[i];
      if (!old) throw new Error(`no worker ${i}`);
      if (old.alive) throw new Error(`worker ${i} is still running`);
      const waitReady = ropts.waitReady ?? true;
      const w = await startWorkerProc(extra, old.nodeId, waitReady);
      workers[i] = w;
      if (waitReady) await waitForMembers(workers.filter((x) => x.alive).map((x) => x.nodeId));
      return w;
    },
    async killWorker(i, signal = 'SIGKILL') {
      const w = workers[i];
      if (!w) throw new Error(`no worker ${i}`);
      w.proc.kill(signal);
      if (signal === 'SIGSTOP' || signal === 'SIGCONT') return null;
      return w.exited;
    },
    async request(method, path, body, ropts = {}) {
      const g = gateways[ropts.gateway ?? 0];
      const headers: Record<string, string> = { ...ropts.headers };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (ropts.admin) headers.authorization = `Bearer ${adminToken}`;
      const r = await fetch(`${g.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await r.text();
      let parsed: unknown;
      if (text.length > 0) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      return { status: r.status, headers: r.headers, body: parsed as any };
    },
    members,
    ownerOf,
    waitForMembers,
    async metric(p, name, labels = {}) {
      const text = await (await fetch(`${p.url}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(name)) continue;
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const set = m[2] ?? '';
        if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(m[3]);
      }
      return sum;
    },
    stop,
  };
}
