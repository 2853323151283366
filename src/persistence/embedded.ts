import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from '../logger.ts';
import { acquireDataDirLock } from './embedded-lock.ts';
import { fsyncDir } from './file-atomic.ts';
import { FileCatalog } from './file-catalog.ts';
import { FileEventLog } from './file-event-log.ts';
import { FileSnapshotStore } from './file-snapshot-store.ts';
import { MemoryBus } from './memory-bus.ts';
import type { Storage } from './index.ts';

/**
 * Layout of DATA_DIR:
 *   LOCK          pid of the process that has it open
 *   events.log    the event log (file-log-record.ts)
 *   snapshots/    one file per show
 *   catalog.json  show summaries
 */
export const EVENT_LOG_FILE = 'events.log';
export const SNAPSHOT_DIR = 'snapshots';
export const CATALOG_FILE = 'catalog.json';

/**
 * The single-process durable store `npm start` uses without NATS/Postgres: every port on
 * local files, the bus in-process. Fails with DATA_DIR_LOCKED if another live process has
 * the directory open.
 */
export async function openEmbeddedStorage(dataDir: string, logger: Logger): Promise<Storage> {
  const dir = resolve(dataDir);
  const log = logger.child({ subsystem: 'embedded-storage' });
  // A new DATA_DIR must itself survive a crash, not only the files in it.
  const created = await mkdir(dir, { recursive: true });
  if (created !== undefined) await fsyncDir(dirname(created));
  const release = await acquireDataDirLock(dir, log);
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const events = await FileEventLog.open(join(dir, EVENT_LOG_FILE), { logger });
    opened.push(events);
    const snapshots = await FileSnapshotStore.open(join(dir, SNAPSHOT_DIR), logger);
    opened.push(snapshots);
    const catalog = await FileCatalog.open(join(dir, CATALOG_FILE), logger);
    opened.push(catalog);
    const bus = new MemoryBus((err) => logger.error({ err }, 'bus handler failed'));
    log.info({ dataDir: dir }, 'embedded storage open');
    let closing: Promise<void> | null = null;
    return {
      kind: 'embedded',
      log: events,
      snapshots,
      catalog,
      bus,
      close: () =>
        (closing ??= (async () => {
          // allSettled: one store failing to close must not keep the others (or the lock) open.
          const results = await Promise.allSettled([events.close(), snapshots.close(), catalog.close(), bus.close()]);
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
