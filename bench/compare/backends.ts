import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect as tcpConnect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { connect as natsConnect } from 'nats';
import { EVENTS_STREAM, eventSubject } from '../../src/subjects.ts';
import { createDatabase, DEFAULT_PG_URL, dropDatabase, postgresPids } from '../lib/pg-admin.ts';
import { freePort } from '../../testkit/free-port.ts';
import { deleteSeatStreamsAt } from '../../testkit/seat-streams.ts';
import { pidsByName, processTree, type CpuGroup } from '../lib/proc-cpu.ts';
import { Api } from './api.ts';
import { EDGE_LIMITS_OFF_ENV } from '../../testkit/spawn-server.ts';

/**
 * Starting and stopping every backend the comparison can drive. Each start either returns
 * a handle (URL, admin token, the processes whose CPU counts, a stop) or throws
 * `BackendSkipped` with the reason, which the runner records instead of leaving the
 * backend out.
 */

export const BACKENDS = [
  'seat-cluster-durable',
  'seat-cluster-embedded',
  'seat-cluster-cluster',
  'postgres-row-lock',
  'redis-lua',
  'restate',
  'memory-floor',
] as const;
export type BackendName = (typeof BACKENDS)[number] | 'external';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const READY_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 15_000;

export const SERVICE_URLS = {
  nats: process.env.BENCH_NATS_URL ?? process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
  redis: process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
  postgres: DEFAULT_PG_URL,
};

export class BackendSkipped extends Error {
  override name = 'BackendSkipped';
}

export interface BackendHandle {
  name: BackendName;
  url: string;
  adminToken: string;
  /** What the CPU figure covers, in words. */
  cpuIncludes: string[];
  /** Process groups whose CPU counts as server-side; resolved anew at each snapshot. */
  cpuGroups(): Promise<CpuGroup[]>;
  /** Removes what the backend kept for these shows outside its own database (JetStream subjects). */
  forgetShows(showIds: string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  runTag: string;
  adminToken: string;
  /** For `external`: the running gateway's URL. */
  url?: string | undefined;
}

// ------------------------------------------------------------------ helpers

function reachable(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((res) => {
    const s = tcpConnect({ host: u.hostname, port: Number(u.port || defaultPort), timeout: 1000 });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
    s.once('timeout', () => {
      s.destroy();
      res(false);
    });
  });
}

async function need(service: keyof typeof SERVICE_URLS): Promise<void> {
  const port = { nats: 4222, redis: 6379, postgres: 5432 }[service];
  if (!(await reachable(SERVICE_URLS[service], port))) throw new BackendSkipped(`${service} unreachable at ${SERVICE_URLS[service]}`);
}

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
  tail(): string;
  stop(): Promise<void>;
}

/** Spawns a process, keeping the last lines of its output for error messages. */
function launch(cmd: string, args: string[], env: NodeJS.ProcessEnv, label: string): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let gone = false;
  const exited = new Promise<void>((res) =>
    child.once('exit', () => {
      gone = true;
      res();
    }),
  );
  return {
    child,
    exited,
    tail: () => `${label}: ${out.trim().split('\n').slice(-8).join('\n')}`,
    stop: async () => {
      if (gone) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitReady(url: string, procs: Proc[], path = '/readyz'): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited: Proc | null = null;
  for (const p of procs) void p.exited.then(() => (exited ??= p));
  while (Date.now() < deadline) {
    if (exited) throw new BackendSkipped(`exited before it was ready — ${(exited as Proc).tail()}`);
    try {
      const r = await fetch(new URL(path, url), { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new BackendSkipped(`not ready after ${READY_TIMEOUT_MS / 1000} s — ${procs.map((p) => p.tail()).join(' | ')}`);
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['NATS_URL', 'DATABASE_URL', 'REDIS_URL', 'ROLE', 'NODE_ID', 'PORT', 'GRPC_PORT', 'DATA_DIR']) delete env[k];
  return { ...env, ...extra };
}

/**
 * Node flags for every server process started here, e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof
 * --cpu-prof-dir=/tmp/prof" to see where a backend's time goes (profiles are written on exit).
 */
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const tsx = (file: string) => [...SERVER_NODE_ARGS, '--import', 'tsx', file];

// ------------------------------------------------------------------ this project

async function startSeatCluster(name: BackendName, opts: StartOptions): Promise<BackendHandle> {
  const durable = name !== 'seat-cluster-embedded';
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-seat-'));
  const dbName = `bench_sc_${opts.runTag}`;
  const procs: Proc[] = [];
  // Names on the shared NATS and Redis that are this run's alone (builds that do not know
  // these variables ignore them; their subjects are purged from the default stream instead).
  const names = {
    NATS_STREAM: `BENCH_${opts.runTag}`,
    EVENT_SUBJECT_PREFIX: `bench.${opts.runTag}.events`,
    BUS_SUBJECT_PREFIX: `bench.${opts.runTag}.bus`,
    CLUSTER_PREFIX: `bench-${opts.runTag}`,
  };
  const base = {
    ADMIN_TOKEN: opts.adminToken,
    HOLD_TOKEN_SECRET: randomBytes(24).toString('base64url'),
    DEMO_SHOW: '0',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    // Every generated client comes from 127.0.0.1: the edge limits (per-address hold rate,
    // sockets per address) would measure themselves, not the store. Switched off explicitly.
    ...EDGE_LIMITS_OFF_ENV,
    ...names,
  };
  let created = false;
  const cleanup = async () => {
    await Promise.all(procs.map((p) => p.stop()));
    rmSync(dataDir, { recursive: true, force: true });
    if (created) await dropDatabase(dbName).catch(() => undefined);
    if (durable) {
      await deleteSeatStreamsAt(SERVICE_URLS.nats, names.NATS_STREAM).catch(() => undefined);
    }
    if (name === 'seat-cluster-cluster') await deleteKeys(`${names.CLUSTER_PREFIX}:`).catch(() => undefined);
  };
  try {
    let durableEnv: Record<string, string> = {};
    if (durable) {
      await need('postgres');
      await need('nats');
      const dbUrl = await createDatabase(dbName);
      created = true;
      durableEnv = { NATS_URL: SERVICE_URLS.nats, DATABASE_URL: dbUrl };
    }
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    if (name === 'seat-cluster-cluster') {
      await need('redis');
      // Two workers and a gateway, as in docker-compose: only once src/main.ts has the roles.
      for (const id of ['w1', 'w2']) {
        const env = cleanEnv({ ...base, ...durableEnv, REDIS_URL: SERVICE_URLS.redis, ROLE: 'worker', NODE_ID: `${opts.runTag}-${id}` });
        Object.assign(env, { PORT: String(await freePort()), GRPC_PORT: String(await freePort()), DATA_DIR: join(dataDir, id) });
        procs.push(launch(process.execPath, tsx('src/main.ts'), env, `worker ${id}`));
      }
      const env = cleanEnv({ ...base, ...durableEnv, REDIS_URL: SERVICE_URLS.redis, ROLE: 'gateway', NODE_ID: `${opts.runTag}-gw` });
      Object.assign(env, { PORT: String(port), GRPC_PORT: String(await freePort()), DATA_DIR: join(dataDir, 'gw') });
      procs.push(launch(process.execPath, tsx('src/main.ts'), env, 'gateway'));
    } else {
      const env = cleanEnv({ ...base, ...durableEnv, PORT: String(port), GRPC_PORT: String(await freePort()), DATA_DIR: dataDir });
      procs.push(launch(process.execPath, tsx('src/main.ts'), env, name));
    }
    await waitReady(url, procs);
    return {
      name,
      url,
      adminToken: opts.adminToken,
      cpuIncludes: durable
        ? [
            'node server process(es) and children',
            "postgres backends of this run's database + WAL writer, checkpointer, background writer",
            'nats-server',
            ...(name === 'seat-cluster-cluster' ? ['redis-server'] : []),
          ]
        : ['node server process and children'],
      cpuGroups: async () => {
        const groups: CpuGroup[] = [{ label: 'server', pids: procs.flatMap((p) => (p.child.pid ? processTree(p.child.pid) : [])) }];
        if (durable) {
          groups.push({ label: 'postgres', pids: await postgresPids(dbName).catch(() => []) });
          groups.push({ label: 'nats-server', pids: pidsByName('nats-server') });
        }
        if (name === 'seat-cluster-cluster') groups.push({ label: 'redis-server', pids: pidsByName('redis-server') });
        return groups;
      },
      forgetShows: async (ids) => {
        if (durable) await purgeSubjects(ids);
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Purges this run's show subjects from the shared default stream (other runs may use it). */
async function purgeSubjects(showIds: string[]): Promise<void> {
  const nc = await natsConnect({ servers: SERVICE_URLS.nats, timeout: 5000 });
  try {
    const jsm = await nc.jetstreamManager();
    for (const id of showIds) await jsm.streams.purge(EVENTS_STREAM, { filter: eventSubject(id) }).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

// ------------------------------------------------------------------ baselines

async function startBaseline(
  name: 'postgres-row-lock' | 'redis-lua' | 'restate' | 'memory-floor',
  opts: StartOptions,
): Promise<BackendHandle> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dbName = `bench_${name === 'redis-lua' ? 'rl' : 'pg'}_${opts.runTag}`;
  const keyPrefix = `bench:${opts.runTag}:`;
  const procs: Proc[] = [];
  let restateDir: string | null = null;
  const env: Record<string, string> = { PORT: String(port), ADMIN_TOKEN: opts.adminToken };
  const cleanup = async () => {
    await Promise.all([...procs].reverse().map((p) => p.stop()));
    if (name === 'postgres-row-lock' || name === 'redis-lua') await dropDatabase(dbName).catch(() => undefined);
    if (name === 'redis-lua') await deleteKeys(keyPrefix).catch(() => undefined);
    if (restateDir) rmSync(restateDir, { recursive: true, force: true });
  };
  try {
    if (name === 'restate') {
      restateDir = mkdtempSync(join(tmpdir(), 'bench-restate-'));
      const r = await startRestateServer(restateDir);
      procs.push(r.proc);
      Object.assign(env, {
        RESTATE_INGRESS_URL: r.ingress,
        RESTATE_ADMIN_URL: r.admin,
        RESTATE_ENDPOINT_PORT: String(await freePort()),
        RESTATE_LOGGING: 'WARN',
      });
    } else if (name !== 'memory-floor') {
      await need('postgres');
      if (name === 'redis-lua') await need('redis');
      Object.assign(env, {
        BENCH_DB_NAME: dbName,
        BENCH_KEY_PREFIX: keyPrefix,
        REDIS_URL: SERVICE_URLS.redis,
        BENCH_PG_URL: SERVICE_URLS.postgres,
      });
    }
    const proc = launch(process.execPath, tsx(`bench/baselines/${name}.ts`), cleanEnv(env), name);
    procs.push(proc);
    await waitReady(url, procs);
    const includes: Record<typeof name, string[]> = {
      'postgres-row-lock': [
        'node baseline process',
        "postgres backends of this run's database + WAL writer, checkpointer, background writer",
      ],
      'redis-lua': [
        'node baseline process',
        'redis-server',
        "postgres backends of this run's database + WAL writer, checkpointer, background writer",
      ],
      restate: ['node baseline process (HTTP front + Restate service endpoint)', 'restate-server'],
      'memory-floor': ['node baseline process (the seat map in memory: nothing else)'],
    };
    return {
      name,
      url,
      adminToken: opts.adminToken,
      cpuIncludes: includes[name],
      cpuGroups: async () => {
        const groups: CpuGroup[] = procs.map((p, i) => ({
          label: i === procs.length - 1 ? 'server' : 'restate-server',
          pids: p.child.pid ? processTree(p.child.pid) : [],
        }));
        if (name === 'redis-lua') groups.push({ label: 'redis-server', pids: pidsByName('redis-server') });
        if (name === 'postgres-row-lock' || name === 'redis-lua')
          groups.push({ label: 'postgres', pids: await postgresPids(dbName).catch(() => []) });
        return groups;
      },
      forgetShows: async () => undefined,
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(SERVICE_URLS.redis, { maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 2000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The restate-server binary shipped inside the npm package for this platform. */
function restateBinary(): string {
  const pkg = `@restatedev/restate-server-${process.platform}-${process.arch === 'x64' ? 'x64' : process.arch}`;
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), 'bin', 'restate-server');
  } catch {
    throw new BackendSkipped(`${pkg} is not installed (it comes with the devDependency @restatedev/restate-server; run npm install)`);
  }
}

async function startRestateServer(dir: string): Promise<{ proc: Proc; ingress: string; admin: string }> {
  const bin = restateBinary();
  const [ingressPort, adminPort, nodePort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    ...process.env,
    RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingressPort}`,
    RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${adminPort}`,
    RESTATE_BIND_ADDRESS: `127.0.0.1:${nodePort}`,
    RESTATE_ADVERTISED_ADDRESS: `http://127.0.0.1:${nodePort}/`,
    RESTATE_LISTEN_MODE: 'tcp',
    RESTATE_DISABLE_TELEMETRY: 'true',
    RESTATE_LOG_FILTER: 'warn',
    // Bookings accumulate in the show's state; past this size the state is fetched lazily
    // instead of being shipped whole with every invocation (the default is 32 MiB).
    RESTATE_WORKER__INVOKER__EAGER_STATE_SIZE_LIMIT: '65536',
  };
  // One partition per core: the default 24 partitions are sized for bigger machines.
  const partitions = process.env.BENCH_RESTATE_PARTITIONS ?? String(cpus().length);
  const args = ['--no-logo', '--base-dir', dir, '--node-name', 'bench', '--default-num-partitions', partitions];
  const proc = launch(bin, args, env, 'restate-server');
  const admin = `http://127.0.0.1:${adminPort}`;
  try {
    await waitReady(admin, [proc], '/health');
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { proc, ingress: `http://127.0.0.1:${ingressPort}`, admin };
}

// ------------------------------------------------------------------ external

async function useExternal(opts: StartOptions): Promise<BackendHandle> {
  const url = opts.url as string;
  if (!(await new Api(url, opts.adminToken).ready())) throw new BackendSkipped(`${url}/readyz did not answer 200`);
  return {
    name: 'external',
    url,
    adminToken: opts.adminToken,
    cpuIncludes: ['nothing: the server is not a local child process (CPU not measured)'],
    cpuGroups: async () => [],
    forgetShows: async () => undefined,
    stop: async () => undefined,
  };
}

export async function startBackend(name: BackendName, opts: StartOptions): Promise<BackendHandle> {
  switch (name) {
    case 'seat-cluster-durable':
    case 'seat-cluster-embedded':
    case 'seat-cluster-cluster':
      return startSeatCluster(name, opts);
    case 'postgres-row-lock':
    case 'redis-lua':
    case 'restate':
    case 'memory-floor':
      return startBaseline(name, opts);
    case 'external':
      return useExternal(opts);
    default: {
      const never: never = name;
      throw new Error(`unknown backend ${String(never)}`);
    }
  }
}
