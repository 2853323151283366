/**
 * Private nats-server (JetStream), redis-server and Postgres, each on a free loopback port
 * with its data in a temp dir, so fault tests and the chaos suite can kill and restart them
 * without touching the machine's shared servers: one alone (startPrivateNats,
 * startPrivateRedis) or all three (startPrivateServices).
 *
 * Postgres is a cluster of its own (initdb + pg_ctl from /usr/lib/postgresql/<v>/bin). Postgres
 * refuses to run as root, so when this process is root the binaries run as the `postgres`
 * system user (runuser) on the private data dir — still a separate server on a separate port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

export interface ServiceControl {
  readonly name: 'nats' | 'redis' | 'postgres';
  readonly port: number;
  /** The admin URL (what startCluster's `services` takes). */
  readonly url: string;
  /** Whether it is running (as far as this process knows). */
  readonly up: boolean;
  /** Stops it abruptly (SIGKILL; Postgres: a fast shutdown), keeping its data dir. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data dir; resolves once it accepts connections. */
  start(): Promise<void>;
}

/** One private server of a test's own; `stop()` kills it for good and deletes its data. */
export interface PrivateService extends ServiceControl {
  stop(): Promise<void>;
}

export interface PrivateServices {
  nats: ServiceControl;
  redis: ServiceControl;
  postgres: ServiceControl;
  /** How Postgres runs (for the report): as this user, or as `postgres` via runuser. */
  postgresMode: string;
  /** Stops all three and deletes their data. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 20_000;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, timeout: 500 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

async function waitPort(port: number, open: boolean, what: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while ((await portOpen(port)) !== open) {
    if (Date.now() > deadline) throw new Error(`${what} did not ${open ? 'open' : 'close'} port ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A server that is one child process: started by `argv`, killed with SIGKILL. */
class ProcessService implements ServiceControl {
  private proc: ChildProcess | null = null;
  constructor(
    readonly name: 'nats' | 'redis',
    readonly port: number,
    readonly url: string,
    private readonly argv: [string, ...string[]],
  ) {}

  get up(): boolean {
    return this.proc !== null;
  }

  async start(): Promise<void> {
    if (this.proc) return;
    const proc = spawn(this.argv[0], this.argv.slice(1), { stdio: 'ignore' });
    this.proc = proc;
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = null;
    });
    await waitPort(this.port, true, this.name);
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
    this.proc = null;
    await waitPort(this.port, false, this.name);
  }
}

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) if (existsSync(join(root, v, 'bin', 'initdb'))) return join(root, v, 'bin');
  throw new Error('no Postgres server binaries under /usr/lib/postgresql/*/bin (initdb, pg_ctl)');
}

/** A private Postgres cluster driven by pg_ctl. */
class PostgresService implements ServiceControl {
  readonly name = 'postgres' as const;
  readonly url: string;
  private running = false;
  private readonly data: string;
  private readonly asUser: string | null;

  constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly bin: string,
  ) {
    this.asUser = userInfo().uid === 0 ? 'postgres' : null;
    this.data = join(dir, 'data');
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  get mode(): string {
    return this.asUser
      ? `private cluster run as the '${this.asUser}' user (runuser; Postgres refuses root)`
      : 'private cluster run as the current user';
  }

  get up(): boolean {
    return this.running;
  }

  private run(tool: string, args: string[]): void {
    const cmd = join(this.bin, tool);
    const r = this.asUser
      ? spawnSync('runuser', ['-u', this.asUser, '--', cmd, ...args], { encoding: 'utf8' })
      : spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${tool} failed (${r.status}): ${r.stderr || r.stdout}`);
  }

  init(): void {
    if (this.asUser) {
      const pw = spawnSync('id', ['-u', this.asUser], { encoding: 'utf8' });
      const gid = spawnSync('id', ['-g', this.asUser], { encoding: 'utf8' });
      chownSync(this.dir, Number(pw.stdout.trim()), Number(gid.stdout.trim()));
    }
    this.run('initdb', ['-D', this.data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  }

  async start(): Promise<void> {
    if (this.running) return;
    // fsync off: a test server; the fault here is the server going away, not the disk.
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    this.run('pg_ctl', ['-D', this.data, '-o', opts, '-l', join(this.dir, 'log'), '-w', '-t', '30', 'start']);
    this.running = true;
    await waitPort(this.port, true, 'postgres');
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.run('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', '-t', '30', 'stop']);
    this.running = false;
    await waitPort(this.port, false, 'postgres');
  }
}

/** nats-server with JetStream storing under `dir`: a restart on the same port and store keeps its streams. */
function natsService(port: number, dir: string): ProcessService {
  return new ProcessService('nats', port, `nats://127.0.0.1:${port}`, [
    'nats-server',
    '-js',
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '-sd',
    join(dir, 'nats'),
  ]);
}

/** redis-server without persistence: after a restart it comes back empty, as a Redis without a dump would. */
function redisService(port: number, dir: string): ProcessService {
  return new ProcessService('redis', port, `redis://127.0.0.1:${port}`, [
    'redis-server',
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ]);
}

/** Starts `make(port, dir)` on a free port and temp dir; `stop()` kills it and deletes the dir. */
async function startOne(prefix: string, make: (port: number, dir: string) => ProcessService): Promise<PrivateService> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const service = make(await freePort(), dir);
  const stop = async () => {
    await service.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await service.start();
  } catch (err) {
    await stop();
    throw err;
  }
  return Object.assign(service, { stop });
}

/** A nats-server (JetStream) of the caller's own. Call `stop()` in a finally. */
export function startPrivateNats(): Promise<PrivateService> {
  return startOne('seats-nats-', natsService);
}

/** A redis-server of the caller's own. Call `stop()` in a finally. */
export function startPrivateRedis(): Promise<PrivateService> {
  return startOne('seats-redis-', redisService);
}

/** Starts all three on free ports. Call `stop()` in a finally. */
export async function startPrivateServices(): Promise<PrivateServices> {
  const dir = mkdtempSync(join(tmpdir(), 'seat-chaos-'));
  const [natsPort, redisPort, pgPort] = [await freePort(), await freePort(), await freePort()];
  const nats = natsService(natsPort, dir);
  const redis = redisService(redisPort, dir);
  // Its own temp dir: when it runs as `postgres` it must reach it without entering ours (0700).
  const pgDir = mkdtempSync(join(tmpdir(), 'seat-chaos-pg-'));
  const postgres = new PostgresService(pgPort, pgDir, postgresBin());
  const stop = async () => {
    await Promise.allSettled([nats.kill(), redis.kill(), postgres.kill()]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(pgDir, { recursive: true, force: true });
  };
  try {
    postgres.init();
    await Promise.all([nats.start(), redis.start(), postgres.start()]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { nats, redis, postgres, postgresMode: postgres.mode, stop };
}
