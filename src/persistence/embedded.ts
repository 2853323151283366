import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from '../logger.ts';
import { acquireDataDirLock } from './embedded-lock.ts';
import { fsyncDir } from './file-atomic.ts';
import { FileBookingArchive } from './file-booking-archive.ts';
import { FileCatalog } from './file-catalog.ts';
import { FileEventLog } from './file-event-log.ts';
import type { TruncatePermission } from './file-log-recovery.ts';
import { FileSnapshotStore } from './file-snapshot-store.ts';
import { MemoryBus } from './memory-bus.ts';
import type { Storage } from '../core/storage.ts';
import type { SnapshotStore } from '../core/ports.ts';

/** Knobs of the embedded store beyond the directory; every one has a default. */
export interface EmbeddedOptions {
  /** A segment of the event log takes no new write once this long. */
  segmentBytes?: number;
  /** Permission to cut a damaged log at one file and offset (EVENT_LOG_TRUNCATE_AT). */
  truncateAt?: TruncatePermission;
}

/**
 * Layout of DATA_DIR:
 *   LOCK               pid of the process that has it open
 *   events-NNNNNN.log  the event log's segments (file-log-record.ts); an `events.log` left
 *                      by an earlier version is read as the oldest segment
 *   snapshots/         one file per show
 *   catalog.json       show summaries
 *   bookings/          bookings the shows no longer keep in memory, one file per show
 */
export const SNAPSHOT_DIR = 'snapshots';
export const CATALOG_FILE = 'catalog.json';
export const ARCHIVE_DIR = 'bookings';

/**
 * The single-process durable store `npm start` uses without NATS/Postgres: every port on
 * local files, the bus in-process. Fails with DATA_DIR_LOCKED if another live process has
 * the directory open.
 */
export async function openEmbeddedStorage(dataDir: string, logger: Logger, options: EmbeddedOptions = {}): Promise<Storage> {
  const dir = resolve(dataDir);
  const log = logger.child({ subsystem: 'embedded-storage' });
  // A new DATA_DIR must itself survive a crash, not only the files in it.
  const created = await mkdir(dir, { recursive: true });
  if (created !== undefined) await fsyncDir(dirname(created));
  const release = await acquireDataDirLock(dir, log);
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const store = await FileSnapshotStore.open(join(dir, SNAPSHOT_DIR), logger);
    opened.push(store);
    const events = await FileEventLog.open(dir, {
      logger,
      snapshotSeqOf: (showId) => store.logSeqOf(showId),
      ...(options.segmentBytes !== undefined ? { segmentBytes: options.segmentBytes } : {}),
      ...(options.truncateAt !== undefined ? { truncateAt: options.truncateAt } : {}),
    });
    opened.push(events);
    // Each new snapshot may free a segment of the log; snapshots taken while the process was down count too.
    const snapshots: SnapshotStore = {
      save: async (snapshot) => {
        const saved = await store.save(snapshot);
        if (saved) events.requestCompaction();
        return saved;
      },
      load: (showId) => store.load(showId),
      delete: (showId) => store.delete(showId),
      close: () => store.close(),
    };
    events.requestCompaction();
    const catalog = await FileCatalog.open(join(dir, CATALOG_FILE), logger);
    opened.push(catalog);
    const archive = await FileBookingArchive.open(join(dir, ARCHIVE_DIR), logger);
    opened.push(archive);
    const bus = new MemoryBus((err) => logger.error({ err }, 'bus handler failed'));
    log.info({ dataDir: dir }, 'embedded storage open');
    let closing: Promise<void> | null = null;
    return {
      kind: 'embedded',
      log: events,
      snapshots,
      catalog,
      bus,
      archive,
      close: () =>
        (closing ??= (async () => {
          // allSettled: one store failing to close must not keep the others (or the lock) open.
          const results = await Promise.allSettled([events.close(), snapshots.close(), catalog.close(), archive.close(), bus.close()]);
          await release();
          const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
          if (failed) throw failed.reason;
        })()),
    };
  } catch (err) {
    await Promise.allSettled(opened.map((o) => o.close()));
    await release();
    throw err;
  }
}
