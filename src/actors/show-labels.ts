/** Shows that get a `show` label value of their own in one process; the rest share `other`. */
export const SHOW_LABEL_CAP = 200;
/**
 * A labelled show with no commit for this long gives its slot to the next new show, so a
 * long-running process does not keep last month's shows labelled while tonight's fall into
 * `other`. Longer than any rate window a dashboard uses.
 */
export const SHOW_LABEL_IDLE_MS = 30 * 60_000;
/** The label value of every show past the cap. */
export const OTHER_SHOW_LABEL = 'other';

/**
 * Bounds the `show` label of per-show metrics (each distinct value is a time series in
 * Prometheus): the first `cap` distinct shows seen get their own value, later ones
 * `other` until a labelled show has been idle for `idleMs`, whose slot (and series, via
 * `onEvict`) then goes to the next new show. Pure: the clock is passed in.
 */
export class ShowLabels {
  /** Labelled shows and when each last committed. */
  private readonly lastSeen = new Map<string, number>();
  /** No labelled show can be idle long enough before this time (the oldest last-seen + idleMs). */
  private noEvictionBefore = -Infinity;

  constructor(
    private readonly cap = SHOW_LABEL_CAP,
    private readonly idleMs = SHOW_LABEL_IDLE_MS,
    private readonly onEvict: (showId: string) => void = () => undefined,
  ) {}

  /** The label value for `showId` at `now` (its id, or `other`). */
  labelOf(showId: string, now: number): string {
    if (this.lastSeen.has(showId)) {
      this.lastSeen.set(showId, now);
      return showId;
    }
    if (this.lastSeen.size >= this.cap && !this.evictIdle(now)) return OTHER_SHOW_LABEL;
    this.lastSeen.set(showId, now);
    return showId;
  }

  /** Shows labelled now. */
  get size(): number {
    return this.lastSeen.size;
  }

  private evictIdle(now: number): boolean {
    // Last-seen times only grow, so until the oldest one is idle nobody is: skip the scan.
    if (now < this.noEvictionBefore) return false;
    let oldestId: string | null = null;
    let oldestAt = Infinity;
    for (const [id, at] of this.lastSeen) {
      if (at < oldestAt) {
        oldestAt = at;
        oldestId = id;
      }
    }
    if (oldestId === null || now - oldestAt < this.idleMs) {
      this.noEvictionBefore = oldestAt + this.idleMs;
      return false;
    }
    this.lastSeen.delete(oldestId);
    this.onEvict(oldestId);
    return true;
  }
}
