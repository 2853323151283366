import { randomUUID } from 'node:crypto';
import { link, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';

export const LOCK_FILE = 'LOCK';

/**
 * Locks this process holds. A lock naming our own pid that is not in here was left by an
 * earlier process that had the same pid: the usual case in a container restarted after a
 * crash, where the service is pid 1 (or another fixed small pid) every time.
 */
const heldHere = new Set<string>();

/** Another live process (or this one) already has the data directory open. */
export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
  readonly code = 'DATA_DIR_LOCKED';
}

/**
 * Takes DATA_DIR/LOCK, holding our pid, so two processes never write one event log (each
 * would fence against its own in-memory index, and both could "win"). The pid is written to
 * a private temp file first and then hard-linked to LOCK, which fails if LOCK exists: the
 * lock appears atomically with its content, so no one ever sees an empty lock. One left by
 * a process that is no longer alive is taken over. Returns the release function.
 *
 * Limits: a stale lock whose pid now belongs to an unrelated live process looks alive (the
 * error says which file to remove), and two processes taking over the same stale lock at the
 * very same moment are not told apart.
 */
export async function acquireDataDirLock(dataDir: string, logger: Logger): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE);
  const tmp = `${path}.${process.pid}.${randomUUID()}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(`${process.pid}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    return await linkLock(tmp, path, dataDir, logger);
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

async function linkLock(tmp: string, path: string, dataDir: string, logger: Logger): Promise<() => Promise<void>> {
  for (let attempt = 0; ; attempt++) {
    try {
      await link(tmp, path);
      heldHere.add(path);
      return () => releaseLock(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 1) throw err;
    }
    const holder = await readPid(path);
    const live = holder === process.pid ? heldHere.has(path) : holder !== null && isAlive(holder);
    if (live)
      throw new DataDirLockedError(
        `data directory ${dataDir} is in use by process ${holder}; stop it, or delete ${path} if that process is not ours`,
      );
    logger.warn({ path, pid: holder }, 'taking over lock of a process that is gone');
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}

/** Only removes the lock if it is still ours. */
async function releaseLock(path: string): Promise<void> {
  if (!heldHere.delete(path)) return;
  if ((await readPid(path)) === process.pid) await unlink(path).catch(() => {});
}

/** The pid in the lock file; null if missing or unreadable. */
async function readPid(path: string): Promise<number | null> {
  try {
    const pid = Number.parseInt((await readFile(path, 'utf8')).trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
