/**
 * The one place percentiles are computed for tests and benches: nearest-rank over plain
 * samples, the same rank over a histogram of counts, and the median.
 */

/** The nearest rank (1-based) of quantile `q` (0..1) among `n` values. */
function rankOf(q: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(q * n)));
}

/** p-th percentile (0..100) of plain samples (any unit), nearest rank; NaN for an empty list. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[rankOf(p / 100, sorted.length) - 1];
}

/**
 * p-th percentile (0..100) of a histogram whose bucket i counts values equal to i (e.g. 1 ms
 * buckets), nearest rank; null when the histogram is empty.
 */
export function bucketPercentile(counts: ArrayLike<number>, p: number): number | null {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  if (total === 0) return null;
  const rank = rankOf(p / 100, total);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) if ((seen += counts[i]) >= rank) return i;
  return counts.length - 1;
}

/** The median (the mean of the two middle values for an even count); NaN for an empty list. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
