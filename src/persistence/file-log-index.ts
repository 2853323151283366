/**
 * Where one show's batches sit in the log: segment, offset and length per batch, in
 * parallel arrays (~32 bytes a batch). `last` and `floor` outlive the entries: after older
 * segments are deleted a show may have no entries left but keeps its fencing position.
 *
 * Compaction replaces the arrays rather than splicing them, so a reader that took them
 * before keeps a consistent view of the entries it is reading.
 */
export class ShowIndex {
  segs: number[] = [];
  seqs: number[] = [];
  offsets: number[] = [];
  lengths: number[] = [];
  /** Seq of the show's last batch, 0 if none. */
  last = 0;
  /** Batches with seq <= floor were deleted with their segments (their state is in the snapshot). */
  floor = 0;

  get size(): number {
    return this.seqs.length;
  }

  add(seq: number, seg: number, offset: number, length: number): void {
    this.segs.push(seg);
    this.seqs.push(seq);
    this.offsets.push(offset);
    this.lengths.push(length);
    this.last = seq;
  }

  /** Index of the first batch with seq > afterSeq. */
  firstAfter(afterSeq: number): number {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid] <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Forgets the batches in segments below `seg`; returns how many. */
  dropBelow(seg: number): number {
    let i = 0;
    while (i < this.segs.length && this.segs[i] < seg) i++;
    if (i === 0) return 0;
    this.floor = Math.max(this.floor, this.seqs[i - 1]);
    this.segs = this.segs.slice(i);
    this.seqs = this.seqs.slice(i);
    this.offsets = this.offsets.slice(i);
    this.lengths = this.lengths.slice(i);
    return i;
  }
}
