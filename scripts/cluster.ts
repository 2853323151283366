/**
 * npm run cluster [-- --workers 3 --gateways 1 --base-port 8100]
 *
 * A local cluster on loopback against the local Postgres, NATS and Redis: creates the
 * database if needed, starts the workers then the gateways as separate processes, prints
 * their URLs, and stops everything on Ctrl-C (SIGTERM to each; workers leave the ring).
 * Ports: gateway i serves HTTP/WS on base+i and gRPC on base+100+i; worker i serves
 * health/metrics on base+50+i. Env: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/seats),
 * NATS_URL, REDIS_URL, ADMIN_TOKEN, HOLD_TOKEN_SECRET (generated when unset), CLUSTER_PREFIX.
 * The edge limits keep their product defaults (shared through Redis by the gateways); a load
 * test that drives every client from this machine's one address sets them itself, e.g.
 * `RATE_LIMIT_HOLDS_PER_MINUTE=0 WS_MAX_SOCKETS_PER_ADDRESS=0 npm run cluster` (the whole
 * environment is passed to every process). So is NATS_STREAM: a cluster on a stream of its own
 * also gets its out-events in `<NATS_STREAM>_OUT`. Stopping keeps the database and both streams
 * (the next start carries on from them); testkit/seat-streams.ts deletes the pair.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '3' },
    gateways: { type: 'string', default: '1' },
    'base-port': { type: 'string', default: '8100' },
  },
});
const workers = Number(values.workers);
const gateways = Number(values.gateways);
const basePort = Number(values['base-port']);
if (
  !Number.isInteger(workers) ||
  workers < 1 ||
  !Number.isInteger(gateways) ||
  gateways < 1 ||
  !Number.isInteger(basePort) ||
  basePort < 1 ||
  basePort > 65_000
) {
  console.error('usage: npm run cluster -- [--workers N>=1] [--gateways N>=1] [--base-port P]');
  process.exit(2);
}

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/seats';
const env: Record<string, string> = {
  DATABASE_URL: databaseUrl,
  NATS_URL: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  ADMIN_TOKEN: process.env.ADMIN_TOKEN ?? randomBytes(18).toString('base64url'),
  HOLD_TOKEN_SECRET: process.env.HOLD_TOKEN_SECRET ?? randomBytes(24).toString('base64url'),
  HOST: '127.0.0.1',
  DEMO_SHOW: '0',
};

async function ensureDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = u.pathname.slice(1);
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`database name ${name} must be lowercase letters, digits and _`);
  u.pathname = '/postgres';
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount === 0) {
      await c.query(`CREATE DATABASE ${name}`);
      console.log(`created database ${name}`);
    }
  } finally {
    await c.end();
  }
}

const procs: Array<{ name: string; proc: ChildProcess }> = [];

function start(name: string, extra: Record<string, string>): Promise<void> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...env, ...extra, NODE_ID: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push({ name, proc });
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const e = JSON.parse(line) as { msg?: string; level?: number };
          if (e.msg?.startsWith('listening')) resolve();
          if ((e.level ?? 0) >= 40) console.error(`[${name}] ${line}`);
        } catch {
          console.error(`[${name}] ${line}`);
        }
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`));
    proc.once('exit', (code, signal) => {
      reject(new Error(`${name} exited (${code ?? signal}) before listening`));
      if (!stopping) console.error(`${name} exited (${code ?? signal})`);
    });
  });
}

let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (stopping) process.exit(1);
  stopping = true;
  console.log('\nstopping…');
  // Gateways first, then workers (they leave the ring and drain).
  for (const role of ['g', 'w']) {
    await Promise.all(
      procs
        .filter((p) => p.name.startsWith(role) && p.proc.exitCode === null && p.proc.signalCode === null)
        .map(
          (p) =>
            new Promise<void>((resolve) => {
              const t = setTimeout(() => p.proc.kill('SIGKILL'), 10_000);
              p.proc.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              p.proc.kill('SIGTERM');
            }),
        ),
    );
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  await ensureDatabase(databaseUrl);
  const workerIds = Array.from({ length: workers }, (_, i) => `w${i + 1}`);
  await Promise.all(workerIds.map((id, i) => start(id, { ROLE: 'worker', PORT: String(basePort + 50 + i) })));
  await Promise.all(
    Array.from({ length: gateways }, (_, i) =>
      start(`g${i + 1}`, { ROLE: 'gateway', PORT: String(basePort + i), GRPC_PORT: String(basePort + 100 + i) }),
    ),
  );
  console.log(`\ncluster up: ${workers} worker(s), ${gateways} gateway(s); database ${databaseUrl}`);
  console.log(`admin token: ${env.ADMIN_TOKEN}`);
  for (let i = 0; i < gateways; i++)
    console.log(
      `gateway g${i + 1}:  http://127.0.0.1:${basePort + i}  ws://127.0.0.1:${basePort + i}/v1/ws  grpc 127.0.0.1:${basePort + 100 + i}`,
    );
  for (let i = 0; i < workers; i++)
    console.log(`worker  ${workerIds[i]}:  http://127.0.0.1:${basePort + 50 + i}/readyz  (/metrics, /v1/cluster/members)`);
  console.log('Ctrl-C stops everything.');
} catch (err) {
  console.error(String(err));
  await stopAll(1);
}
