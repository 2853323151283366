/**
 * A log-bucketed latency histogram: ~1 % relative precision from 1 µs to ~1,000 s in
 * under 2,100 buckets, so generator processes can ship theirs over IPC and the runner
 * can merge them exactly. Values are recorded in microseconds.
 */

const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(1e9) / LOG_GROWTH) + 1;

export interface HistogramJSON {
  counts: Record<number, number>;
  total: number;
  maxUs: number;
}

export class Histogram {
  private counts = new Float64Array(BUCKETS);
  total = 0;
  maxUs = 0;

  recordUs(us: number): void {
    const v = Math.max(1, us);
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log(v) / LOG_GROWTH));
    this.counts[i]++;
    this.total++;
    if (v > this.maxUs) this.maxUs = v;
  }

  recordMs(ms: number): void {
    this.recordUs(ms * 1000);
  }

  merge(other: Histogram | HistogramJSON): void {
    if (other instanceof Histogram) {
      for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    } else {
      for (const [k, c] of Object.entries(other.counts)) this.counts[Number(k)] += c;
    }
    this.total += other.total;
    this.maxUs = Math.max(this.maxUs, other.maxUs);
  }

  /** The value at quantile q (0..1), in milliseconds; 0 when empty. */
  quantileMs(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      // Report the bucket's upper edge, capped by the largest value seen.
      if (seen >= rank) return Math.min(GROWTH ** (i + 1), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  toJSON(): HistogramJSON {
    const counts: Record<number, number> = {};
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) counts[i] = this.counts[i];
    return { counts, total: this.total, maxUs: this.maxUs };
  }

  static fromJSON(json: HistogramJSON): Histogram {
    const h = new Histogram();
    h.merge(json);
    return h;
  }
}
