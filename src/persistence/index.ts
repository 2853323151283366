import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { openDurableStorage } from './durable-storage.ts';
import { openEmbeddedStorage } from './embedded.ts';
import { MemoryBus } from './memory-bus.ts';
import { MemoryCatalog, MemoryEventLog, MemorySnapshotStore } from './memory-store.ts';
import type { Storage } from '../core/storage.ts';

export { openDurableStorage } from './durable-storage.ts';
export { openEmbeddedStorage } from './embedded.ts';
export type { Storage } from '../core/storage.ts';
export type { AppendBatch, BookingStore, Bus, Catalog, CatalogFilter, EventLog, LogEntry, Snapshot, SnapshotStore } from '../core/ports.ts';

export function openMemoryStorage(logger: Logger): Storage {
  const bus = new MemoryBus((err) => logger.error({ err }, 'bus handler failed'));
  const log = new MemoryEventLog();
  const snapshots = new MemorySnapshotStore();
  const catalog = new MemoryCatalog();
  return {
    kind: 'memory',
    log,
    snapshots,
    catalog,
    bus,
    close: async () => {
      await Promise.all([log.close(), snapshots.close(), catalog.close(), bus.close()]);
    },
  };
}

/**
 * Chooses the adapters from the configuration: JetStream + Postgres when NATS_URL and
 * DATABASE_URL are set, otherwise the embedded durable store under DATA_DIR.
 */
export async function openStorage(config: Config, logger: Logger): Promise<Storage> {
  if (config.natsUrl === undefined && config.databaseUrl === undefined)
    return openEmbeddedStorage(config.dataDir, logger, {
      segmentBytes: config.eventLogSegmentBytes,
      ...(config.eventLogTruncateAt ? { truncateAt: config.eventLogTruncateAt } : {}),
    });
  // JetStream + Postgres: both URLs are needed; with only one set, openDurableStorage refuses
  // with a clear message rather than silently running on volatile or local storage.
  return openDurableStorage(config, logger, {
    ...(config.natsStream !== undefined ? { stream: config.natsStream } : {}),
    ...(config.eventSubjectPrefix !== undefined ? { eventSubjectPrefix: config.eventSubjectPrefix } : {}),
    ...(config.busSubjectPrefix !== undefined ? { busSubjectPrefix: config.busSubjectPrefix } : {}),
    ...(config.outStream !== undefined ? { outStream: config.outStream } : {}),
    ...(config.outStreamMaxBytes !== undefined ? { outStreamMaxBytes: config.outStreamMaxBytes } : {}),
  });
}
