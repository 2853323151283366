/**
 * Pure clock-offset estimation: how far this process's wall clock is from a reference clock
 * (Redis `TIME`), from round trips. No I/O and no clock reads here; the shell in
 * shared-clock.ts takes the samples.
 */

/** One round trip: the local wall time when the request left and when the answer came back, and the reference time it carried. */
export interface RoundTrip {
  localSentMs: number;
  localReceivedMs: number;
  referenceMs: number;
}

export interface ClockSample {
  /** reference − local at the same instant: add it to the local clock to read the reference. */
  offsetMs: number;
  rttMs: number;
}

/**
 * The reference read its clock somewhere inside the round trip; the midpoint is the best
 * guess, wrong by at most half the round trip.
 */
export function sampleOf(rt: RoundTrip): ClockSample {
  const rttMs = Math.max(0, rt.localReceivedMs - rt.localSentMs);
  return { offsetMs: rt.referenceMs - (rt.localSentMs + rttMs / 2), rttMs };
}

/** Samples the estimate is chosen from (one per heartbeat: a couple of seconds at the defaults). */
export const DEFAULT_OFFSET_WINDOW = 8;

/**
 * The smoothed offset: of the last `window` samples, the one with the shortest round trip
 * (NTP's clock filter — a short trip leaves the least room for a one-sided delay, so one slow
 * answer does not move the estimate). The window is short so a stepped local clock is
 * followed within a few heartbeats.
 */
export class OffsetEstimator {
  private readonly samples: ClockSample[] = [];

  constructor(private readonly window = DEFAULT_OFFSET_WINDOW) {}

  add(sample: ClockSample): void {
    this.samples.push(sample);
    if (this.samples.length > this.window) this.samples.shift();
  }

  /** Null before the first sample. */
  get offsetMs(): number | null {
    let best: ClockSample | null = null;
    for (const s of this.samples) if (best === null || s.rttMs < best.rttMs) best = s;
    return best === null ? null : Math.round(best.offsetMs);
  }

  /** Half the chosen round trip: how wrong the estimate can be. */
  get uncertaintyMs(): number | null {
    let best: ClockSample | null = null;
    for (const s of this.samples) if (best === null || s.rttMs < best.rttMs) best = s;
    return best === null ? null : best.rttMs / 2;
  }
}

/** A skewed worker must come this far back inside the bound before it owns shows again. */
export const SKEW_REJOIN_FRACTION = 0.8;

/**
 * Whether an offset is beyond the bound a worker may own shows with. With hysteresis: once
 * skewed, a worker stays so until its offset is well inside the bound, so an offset hovering
 * at the bound does not move its shows back and forth every heartbeat.
 */
export function isSkewed(offsetMs: number | null, maxMs: number, wasSkewed = false): boolean {
  if (offsetMs === null) return false;
  return Math.abs(offsetMs) > (wasSkewed ? maxMs * SKEW_REJOIN_FRACTION : maxMs);
}
