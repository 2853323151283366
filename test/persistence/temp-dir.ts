import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';

/** A fresh directory under the OS temp dir; `remove` deletes it and everything in it. */
export async function tempDir(prefix = 'seats-storage-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Tests assert on codes and data, not on log lines. */
export const silentLogger = pino({ level: 'silent' });
