/**
 * A clock that moves only when told: leases, heartbeats and the store's `TIME` in in-process
 * clusters read it, so a test expires a lease by moving time, never by waiting.
 */
export class ManualClock {
  private ms: number;

  constructor(startMs = 1_700_000_000_000) {
    this.ms = startMs;
  }

  /** Bound: pass it around as a function. */
  readonly now = (): number => this.ms;

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('a clock only moves forward');
    this.ms += ms;
  }
}
