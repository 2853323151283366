/**
 * Adapts the coalescing tick to load. Broadcast time is summed over a window; when
 * broadcasting took more than half the window the tick doubles (fewer, larger frames for
 * the same changes), and when it took under a sixth the tick halves back toward the base.
 * Watchers then see updates a little later instead of the event loop falling behind,
 * which would delay commands, heartbeats and everything else on the process.
 */
export class TickGovernor {
  private current: number;
  private busyMs = 0;
  private windowStart: number;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly windowMs = 1_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.current = baseMs;
    this.windowStart = this.now();
  }

  get tickMs(): number {
    return this.current;
  }

  /** Records one broadcast's duration; returns true when the tick changed. */
  record(busyMs: number): boolean {
    this.busyMs += busyMs;
    const t = this.now();
    const elapsed = t - this.windowStart;
    if (elapsed < this.windowMs) return false;
    const load = this.busyMs / elapsed;
    this.busyMs = 0;
    this.windowStart = t;
    const before = this.current;
    if (load > 0.5) this.current = Math.min(this.maxMs, this.current * 2);
    else if (load < 1 / 6) this.current = Math.max(this.baseMs, this.current / 2);
    return before !== this.current;
  }
}
