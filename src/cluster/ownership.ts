import type { ActorHost } from '../actors/actor-host.ts';
import type { Logger } from '../logger.ts';
import { showsHandedOver, showsTakenOver, trackOwnedShows } from './ownership-metrics.ts';
import type { Placement } from './placement.ts';

/** Shows handed over or taken over at once. */
export const DEFAULT_HANDOVER_CONCURRENCY = 8;
/**
 * How often the manager looks for actors running here for shows another node owns. A ring
 * change triggers the same check at once; this catches actors woken later (a passivated
 * show's hold timer, a late command that raced the change).
 */
export const DEFAULT_STRAY_CHECK_MS = 1_000;

export interface OwnershipOptions {
  host: ActorHost;
  placement: Placement;
  logger: Logger;
  /** Shows with a warm copy here; those this node now owns are activated at once (takeover). */
  warmShowIds?: () => string[];
  concurrency?: number;
  strayCheckMs?: number;
}

export interface Ownership {
  /**
   * Graceful leave: stop taking shows over, then drain, snapshot and stop every show here.
   * Call it after leaving the ring, so the gateways already route to the new owners; a
   * command that still arrives gets NOT_OWNER from the worker endpoint and is retried.
   */
  handOverAll(): Promise<void>;
  /** Resolves when the handovers and takeovers of the last ring change are done. */
  settled(): Promise<void>;
  stats(): { handedOver: number; takenOver: number };
  close(): Promise<void>;
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Moves shows when the ring changes. For a show running here whose owner is now another
 * node: hand over (drain the mailbox, commit, snapshot, stop); the gateway's retry reaches
 * the new owner. For a show this node now owns and has a warm copy of: activate it from the
 * copy, so its hold timers run and its first command needs no load. Shows this node now
 * owns without a copy start on their first command, or from the expiry sweeper when a hold
 * is due.
 *
 * Safety does not rest on this: a handover that comes late is fenced by the log (the old
 * actor's next append fails NOT_OWNER and it stops).
 */
export function attachOwnership(opts: OwnershipOptions): Ownership {
  const { host, placement } = opts;
  const logger = opts.logger.child({ subsystem: 'ownership' });
  const limit = opts.concurrency ?? DEFAULT_HANDOVER_CONCURRENCY;
  const busy = new Set<string>();
  const counters = { handedOver: 0, takenOver: 0 };
  let leaving = false;
  let closed = false;
  let current: Promise<void> = Promise.resolve();

  const handOver = async (showId: string) => {
    if (busy.has(showId)) return;
    busy.add(showId);
    try {
      await host.passivate(showId, { wake: false });
      counters.handedOver++;
      showsHandedOver.inc();
      logger.debug({ showId, owner: placement.owner(showId) }, 'show handed over');
    } catch (err) {
      logger.warn({ err, showId }, 'handover failed; the log fences this node out');
    } finally {
      busy.delete(showId);
    }
  };

  const takeOver = async (showId: string) => {
    if (busy.has(showId) || host.isActive(showId)) return;
    busy.add(showId);
    try {
      if (await host.ensureActive(showId)) {
        counters.takenOver++;
        showsTakenOver.inc();
      }
    } catch (err) {
      logger.warn({ err, showId }, 'takeover activation failed; the first command retries it');
    } finally {
      busy.delete(showId);
    }
  };

  const strays = () => {
    const self = placement.selfId;
    return host.activeShowIds.filter((id) => leaving || placement.owner(id) !== self);
  };

  const rebalance = async () => {
    const away = strays();
    await eachLimited(away, limit, handOver);
    if (leaving || closed) return;
    const self = placement.selfId;
    const mine = (opts.warmShowIds?.() ?? []).filter((id) => placement.owner(id) === self && !host.isActive(id));
    await eachLimited(mine, limit, takeOver);
    if (away.length || mine.length)
      logger.info({ handedOver: away.length, tookOver: mine.length, members: placement.members().length }, 'ring change applied');
  };

  const schedule = () => {
    current = current.then(rebalance).catch((err: unknown) => logger.warn({ err }, 'rebalance failed'));
    return current;
  };

  const unsubscribe = placement.onChange((change) => {
    // Listeners run synchronously inside the poll that saw the lapse, before any further
    // command is served: stale actors go now, without a snapshot (the log has everything).
    if (change.selfLapsed) logger.warn({ dropped: host.dropAll() }, 'lease lapsed; dropped every show in memory');
    void schedule();
  });
  const strayTimer = setInterval(() => {
    if (strays().some((id) => !busy.has(id))) void schedule();
  }, opts.strayCheckMs ?? DEFAULT_STRAY_CHECK_MS);
  strayTimer.unref();
  const untrackOwned = trackOwnedShows(host, placement);

  return {
    handOverAll: async () => {
      leaving = true;
      await schedule();
    },
    settled: () => current,
    stats: () => ({ ...counters }),
    close: async () => {
      closed = true;
      untrackOwned();
      unsubscribe();
      clearInterval(strayTimer);
      await current;
    },
  };
}
