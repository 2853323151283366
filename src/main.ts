import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CreateShowInput } from './service/seat-service.ts';
import { startClusterGateway, startWorker, workerExtensions } from './cluster/index.ts';
import { NodeIdInUseError } from './cluster/node-claim.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { ErrorCode, isSeatErrorCode } from './errors.ts';
import { startGateway } from './gateway/index.ts';
import { logger, type Logger } from './logger.ts';
import { createSeatNode, type SeatNode } from './node.ts';
import { openStorage } from './persistence/index.ts';

/**
 * The process entry point. ROLE=all (default): config → storage → node → front doors, in
 * one process. ROLE=worker: actors + durable storage + ring membership + the command
 * endpoint (health and metrics on PORT, no API). ROLE=gateway: the front doors over a
 * router to the owners. SIGTERM/SIGINT stop accepting, drain and (worker) leave the ring.
 */

const DEMO_SHOW_ID = 'demo';
const SECRET_BYTES = 32;

/**
 * A secret kept under DATA_DIR so it survives restarts (hold tokens must stay valid for
 * holds that do; the admin token is shown once, on the first start). If the directory is
 * not writable the secret lives for this process only.
 */
async function loadOrCreateSecret(
  dir: string,
  name: string,
  log: Logger,
): Promise<{ value: string; created: boolean; file: string | null }> {
  const file = join(dir, name);
  try {
    return { value: (await readFile(file, 'utf8')).trim(), created: false, file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const value = randomBytes(SECRET_BYTES).toString('base64url');
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return { value, created: true, file };
  } catch (err) {
    log.warn({ err, file }, 'could not store secret; it lasts for this process only');
    return { value, created: true, file: null };
  }
}

/** The demo show: 10 rows of 20 seats, premium front rows, tomorrow evening in Pune. */
function demoShow(now: Date): CreateShowInput {
  const istTomorrow = new Date(now.getTime() + (5.5 + 24) * 3_600_000).toISOString().slice(0, 10);
  const rows = 'ABCDEFGHIJ'.split('').map((label, i) => ({ label, seats: 20, category: i < 3 ? 'premium' : 'standard' }));
  return {
    id: DEMO_SHOW_ID,
    title: 'Demo Night',
    city: 'Pune',
    venue: 'Screen 1',
    startsAt: `${istTomorrow}T19:30:00+05:30`,
    categories: [
      { id: 'premium', name: 'Premium', price: 45_000, currency: 'INR' },
      { id: 'standard', name: 'Standard', price: 25_000, currency: 'INR' },
    ],
    layout: { sections: [{ id: 'main', rows }] },
  };
}

async function ensureDemoShow(node: SeatNode, log: Logger): Promise<void> {
  try {
    await node.service.getShow(DEMO_SHOW_ID);
    return;
  } catch (err) {
    if (!isSeatErrorCode(err, ErrorCode.SHOW_NOT_FOUND)) throw err;
  }
  try {
    await node.service.createShow(demoShow(new Date()));
    log.info({ showId: DEMO_SHOW_ID }, 'demo show created');
  } catch (err) {
    if (!isSeatErrorCode(err, ErrorCode.SHOW_EXISTS)) throw err;
  }
}

/** One stop for every role; a second signal exits at once. */
function onSignals(stop: () => Promise<void>, log: Logger): void {
  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal; exiting without a clean stop');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      await stop();
      log.info('stopped');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', (s) => void shutdown(s));
  process.on('SIGINT', (s) => void shutdown(s));
}

async function adminTokenOf(config: Config, log: Logger) {
  return config.adminToken
    ? { value: config.adminToken, created: false, file: null }
    : await loadOrCreateSecret(config.dataDir, 'admin-token', log);
}

async function runAll(config: Config, log: Logger): Promise<void> {
  const admin = await adminTokenOf(config, log);
  const holdTokenSecret = config.holdTokenSecret ?? (await loadOrCreateSecret(config.dataDir, 'hold-token-secret', log)).value;

  const storage = await openStorage(config, logger);
  const node = createSeatNode({ ...config, holdTokenSecret }, storage, logger);
  if (config.demoShow) await ensureDemoShow(node, log);
  const gateway = await startGateway({
    service: node.service,
    config,
    adminToken: admin.value,
    logger,
    stats: () => node.host.stats(),
  });

  if (admin.created) log.info({ url: gateway.url, adminToken: admin.value, storedIn: admin.file }, 'listening; generated an admin token');
  else log.info({ url: gateway.url, adminTokenFrom: config.adminToken ? 'ADMIN_TOKEN' : admin.file, storage: storage.kind }, 'listening');
  onSignals(async () => {
    await gateway.close();
    await node.close();
  }, log);
}

async function runWorker(config: Config, log: Logger): Promise<void> {
  const worker = await startWorker(config, logger, workerExtensions);
  onSignals(() => worker.close(), log);
  void worker.claimLost.then(async () => {
    log.fatal({ nodeId: worker.nodeId }, `another process now runs NODE_ID ${worker.nodeId}; stopping this one`);
    await worker.close().catch(() => undefined);
    process.exit(1);
  });
}

async function runGateway(config: Config, log: Logger): Promise<void> {
  const admin = await adminTokenOf(config, log);
  const gw = await startClusterGateway(config, logger, admin.value);
  const fields = { url: gw.gateway.url, grpcPort: gw.gateway.grpcPort, nodeId: gw.nodeId, members: gw.placement.members() };
  if (admin.created) log.info({ ...fields, adminToken: admin.value, storedIn: admin.file }, 'listening; generated an admin token');
  else log.info({ ...fields, adminTokenFrom: config.adminToken ? 'ADMIN_TOKEN' : admin.file }, 'listening');
  onSignals(() => gw.close(), log);
}

/**
 * Test-only (CLOCK_OFFSET_FOR_TESTS_MS): shifts this process's Date.now, to play a machine
 * whose clock is wrong where libfaketime is not installed. Never set it in production.
 */
function skewLocalClockForTests(offsetMs: number, log: Logger): void {
  const real = Date.now.bind(Date);
  Date.now = () => real() + offsetMs;
  log.warn({ offsetMs }, 'local clock shifted for tests (CLOCK_OFFSET_FOR_TESTS_MS)');
}

async function main(): Promise<void> {
  const config = loadConfig();
  const log = logger.child({ subsystem: 'main', role: config.role });
  if (config.clockOffsetForTestsMs !== undefined) skewLocalClockForTests(config.clockOffsetForTestsMs, log);
  switch (config.role) {
    case 'all':
      return runAll(config, log);
    case 'worker':
      return runWorker(config, log);
    case 'gateway':
      return runGateway(config, log);
    default: {
      const _: never = config.role;
      throw new ConfigError(`unknown ROLE ${String(_)}`);
    }
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) logger.error(err.message);
  else if (err instanceof NodeIdInUseError) logger.fatal({ nodeId: err.nodeId, code: 'NODE_ID_IN_USE' }, err.message);
  else logger.fatal({ err }, 'failed to start');
  process.exit(1);
});
