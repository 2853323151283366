/**
 * Least-squares trend of a series: how fast a figure grows per hour once the process has
 * warmed up. Pure; the soak runner feeds it the samples after its warm-up cut.
 */

export interface Trend {
  /** Units of the series per hour (least-squares slope). */
  perHour: number;
  /** Share of the variance the line explains (0..1); near 0 means "flat or noise". */
  r2: number;
  /** Points the fit used. */
  points: number;
  /** The fitted line at t = tFrom (for drawing it). */
  intercept: number;
}

/** Fits v = a + b·t over `points` (t in seconds). Fewer than two distinct times: slope 0. */
export function fitTrend(points: ReadonlyArray<{ t: number; v: number }>): Trend {
  const n = points.length;
  if (n < 2) return { perHour: 0, r2: 0, points: n, intercept: points[0]?.v ?? 0 };
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const mv = points.reduce((s, p) => s + p.v, 0) / n;
  let stt = 0;
  let stv = 0;
  let svv = 0;
  for (const p of points) {
    stt += (p.t - mt) ** 2;
    stv += (p.t - mt) * (p.v - mv);
    svv += (p.v - mv) ** 2;
  }
  if (stt === 0) return { perHour: 0, r2: 0, points: n, intercept: mv };
  const slope = stv / stt;
  const r2 = svv === 0 ? 0 : (stv * stv) / (stt * svv);
  return { perHour: slope * 3600, r2, points: n, intercept: mv - slope * mt };
}

/** The samples after the first `fraction` of the run's duration (the warm-up). */
export function afterWarmUp<T extends { tSec: number }>(samples: readonly T[], fraction: number): T[] {
  if (samples.length === 0) return [];
  const end = samples[samples.length - 1].tSec;
  const cut = end * fraction;
  return samples.filter((s) => s.tSec >= cut);
}
