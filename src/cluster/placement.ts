/**
 * Who should own each show, as this process currently sees the cluster. Redis membership
 * decides who *should* own a show; the event log's fencing decides who *can* write it, so a
 * stale view costs a retry, never a double sale.
 *
 * Concurrency contract: reads are synchronous and cheap (called per command); the view is
 * replaced atomically when membership changes, then listeners run.
 */
export interface Placement {
  /** This process's node id when it is a worker; null on a gateway. */
  readonly selfId: string | null;
  /**
   * False while this worker's membership lease may have lapsed (its last heartbeat is older
   * than the TTL: Redis unreachable, or the process was paused): the others may already own
   * its shows, so it must serve nothing. Always true on a gateway.
   */
  readonly selfAlive: boolean;
  /** The node that should own the show, or null when no worker is alive. */
  owner(showId: string): string | null;
  /** The next distinct node on the ring after the owner (the warm replica), or null. */
  replica(showId: string): string | null;
  /** Live worker ids, sorted. */
  members(): string[];
  /** Runs after every change of the member list. Returns an unsubscribe. */
  onChange(listener: (change: PlacementChange) => void): () => void;
  /** Re-reads membership now (after a NOT_OWNER or no-responders answer). */
  refresh(): Promise<void>;
}

export interface PlacementChange {
  before: string[];
  after: string[];
  /**
   * This worker's lease lapsed since the last view (even if the member list looks the same):
   * every show in its memory may have been written by another owner meanwhile.
   */
  selfLapsed?: boolean;
}
