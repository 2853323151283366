/**
 * Adapts the coalescing tick to load. The CPU time of broadcasts is summed over a window;
 * when broadcasting used more than 60 % of a core the tick doubles (fewer, larger frames
 * for the same changes), and under 25 % it halves back toward the base (the gap between
 * the two keeps it from flapping). Watchers then see updates a little later instead of
 * the event loop falling behind, which would delay commands, heartbeats and everything
 * else on the process. CPU time, not wall time: on a shared box a broadcast preempted by
 * other processes is not a reason to send less.
 */
const STRETCH_ABOVE = 0.6;
const SHRINK_BELOW = 0.25;

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

  /** Records one broadcast's CPU time (ms); returns true when the tick changed. */
  record(busyMs: number): boolean {
    this.busyMs += busyMs;
    const t = this.now();
    const elapsed = t - this.windowStart;
    if (elapsed < this.windowMs) return false;
    const load = this.busyMs / elapsed;
    this.busyMs = 0;
    this.windowStart = t;
    const before = this.current;
    if (load > STRETCH_ABOVE) this.current = Math.min(this.maxMs, this.current * 2);
    else if (load < SHRINK_BELOW) this.current = Math.max(this.baseMs, this.current / 2);
    return before !== this.current;
  }
}
