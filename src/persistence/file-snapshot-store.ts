import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../logger.ts';
import { fsyncDir, TMP_MARK, writeFileAtomic } from './file-atomic.ts';
import type { Snapshot, SnapshotStore } from '../core/ports.ts';

/** Show ids up to this many UTF-8 bytes are hex-encoded whole in the file name; longer ones are hashed. */
const MAX_HEX_ID_BYTES = 100;

/**
 * File name for a show: hex keeps any id (slashes, dots, unicode) safe, and unlike base64 it
 * cannot collide on case-insensitive file systems. The id is also stored inside the file and
 * checked on load, which is what makes the hashed form of very long ids safe.
 */
export function snapshotFileName(showId: string): string {
  const bytes = Buffer.from(showId, 'utf8');
  if (bytes.length <= MAX_HEX_ID_BYTES) return `x${bytes.toString('hex')}.json`;
  return `h${createHash('sha256').update(bytes).digest('hex')}.json`;
}

/**
 * One JSON file per show under `dir`, replaced atomically (temp file, fsync, rename,
 * directory fsync). Saves and deletes of one show run one after another, and the stored
 * logSeq is remembered, so concurrent saves can never move a show backwards.
 */
export class FileSnapshotStore implements SnapshotStore {
  /** Stored logSeq per show once known; 0 means none on disk. */
  private readonly stored = new Map<string, number>();
  /** Tail of each show's chain of saves/deletes. */
  private readonly chains = new Map<string, Promise<unknown>>();

  private constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  static async open(dir: string, logger: Logger): Promise<FileSnapshotStore> {
    const created = await mkdir(dir, { recursive: true });
    if (created !== undefined) await fsyncDir(dirname(created));
    // Temp files are what a crash mid-save leaves; the rename never happened, so they are garbage.
    for (const name of await readdir(dir)) if (name.includes(TMP_MARK)) await unlink(join(dir, name)).catch(() => {});
    return new FileSnapshotStore(dir, logger.child({ subsystem: 'snapshot-store' }));
  }

  save(snapshot: Snapshot): Promise<boolean> {
    // Text now, before any await: the caller's objects describe one log seq only until its
    // next turn, and the queued write may start much later.
    const text = JSON.stringify(snapshot);
    return this.serialize(snapshot.showId, async () => {
      const current = await this.storedSeq(snapshot.showId);
      if (current >= snapshot.logSeq) return false;
      await writeFileAtomic(this.pathOf(snapshot.showId), text);
      this.stored.set(snapshot.showId, snapshot.logSeq);
      return true;
    });
  }

  /** Outside the per-show chain: the rename makes any read see a whole old or whole new file. */
  load(showId: string): Promise<Snapshot | null> {
    return this.readFile(showId);
  }

  delete(showId: string): Promise<void> {
    return this.serialize(showId, async () => {
      try {
        await unlink(this.pathOf(showId));
        await fsyncDir(this.dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      this.stored.set(showId, 0);
    });
  }

  /** Log seq of the show's stored snapshot, 0 if none (read from disk once, then remembered). */
  logSeqOf(showId: string): Promise<number> {
    return this.storedSeq(showId);
  }

  /** Waits for saves in progress (there is no handle to release). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
  }

  private pathOf(showId: string): string {
    return join(this.dir, snapshotFileName(showId));
  }

  private async storedSeq(showId: string): Promise<number> {
    const known = this.stored.get(showId);
    if (known !== undefined) return known;
    const seq = (await this.readFile(showId))?.logSeq ?? 0;
    this.stored.set(showId, seq);
    return seq;
  }

  /**
   * A snapshot is only an optimization over replaying the log, so an unreadable file is
   * reported and treated as absent rather than blocking the show.
   */
  private async readFile(showId: string): Promise<Snapshot | null> {
    let text: string;
    try {
      text = await readFile(this.pathOf(showId), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const snapshot = JSON.parse(text) as Snapshot;
      if (snapshot.showId === showId && Number.isSafeInteger(snapshot.logSeq)) return snapshot;
      this.logger.warn({ showId, file: snapshotFileName(showId) }, 'snapshot file belongs to another show; ignored');
    } catch (err) {
      this.logger.warn({ err, showId }, 'snapshot file unreadable; ignored');
    }
    return null;
  }

  private serialize<T>(showId: string, task: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(showId) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => {});
    this.chains.set(showId, tail);
    // Forget finished chains so the map does not grow with every show ever saved.
    void tail.then(() => {
      if (this.chains.get(showId) === tail) this.chains.delete(showId);
    });
    return next;
  }
}
