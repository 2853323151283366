import { randomBytes } from 'node:crypto';
import { ActorHost } from './actors/actor-host.ts';
import { seatDelta } from './actors/deltas.ts';
import type { CommittedBatch } from './actors/show-actor.ts';
import { showSummary } from './actors/views.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import type { Storage } from './persistence/index.ts';
import { HoldTokens } from './service/hold-tokens.ts';
import { LocalSeatService } from './service/local-seat-service.ts';
import { deltaSubject } from './subjects.ts';

/** A node that owns shows: actor host, storage and the local seat service, wired together. */
export interface SeatNode {
  host: ActorHost;
  storage: Storage;
  service: LocalSeatService;
  tokens: HoldTokens;
  close(): Promise<void>;
}

const CATALOG_EVENTS = new Set(['ShowCreated', 'ShowChanged', 'ShowCancelled']);

export function createSeatNode(
  config: Pick<Config, 'holdTokenSecret' | 'snapshotEveryEvents' | 'snapshotEveryMs'>,
  storage: Storage,
  logger: Logger,
  extraListeners: Array<(batch: CommittedBatch) => void> = [],
): SeatNode {
  const tokens = new HoldTokens(config.holdTokenSecret ?? randomBytes(32));
  const commitLog = logger.child({ subsystem: 'commit' });
  const onCommitted = (batch: CommittedBatch) => {
    storage.bus.publish(deltaSubject(batch.showId), seatDelta(batch.state, batch.firstVersion - 1, batch.events));
    if (batch.events.some((e) => CATALOG_EVENTS.has(e.type))) {
      storage.catalog.upsert(showSummary(batch.state)).catch((err: unknown) => commitLog.warn({ err, showId: batch.showId }, 'catalog update failed'));
    }
    for (const listener of extraListeners) listener(batch);
  };
  const host = new ActorHost({
    log: storage.log,
    snapshots: storage.snapshots,
    logger,
    onCommitted,
    snapshotEveryEvents: config.snapshotEveryEvents,
    snapshotEveryMs: config.snapshotEveryMs,
  });
  const service = new LocalSeatService(host, storage.catalog, storage.bus, tokens);
  return {
    host,
    storage,
    service,
    tokens,
    close: async () => {
      await host.close();
      await storage.close();
    },
  };
}
