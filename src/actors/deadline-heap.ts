/** A binary min-heap of (deadline, id) pairs. Stale entries are tolerated; callers re-check. */
export class DeadlineHeap {
  private readonly deadlines: number[] = [];
  private readonly ids: string[] = [];

  get size(): number {
    return this.deadlines.length;
  }

  peek(): number | undefined {
    return this.deadlines[0];
  }

  push(deadline: number, id: string): void {
    const d = this.deadlines;
    const ids = this.ids;
    let i = d.length;
    d.push(deadline);
    ids.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (d[parent] <= deadline) break;
      d[i] = d[parent];
      ids[i] = ids[parent];
      i = parent;
    }
    d[i] = deadline;
    ids[i] = id;
  }

  /** Removes and returns every id whose deadline is <= now. */
  popDue(now: number): string[] {
    const due: string[] = [];
    while (this.deadlines.length && this.deadlines[0] <= now) due.push(this.pop());
    return due;
  }

  private pop(): string {
    const d = this.deadlines;
    const ids = this.ids;
    const top = ids[0];
    const lastD = d.pop() as number;
    const lastId = ids.pop() as string;
    if (d.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= d.length) break;
        const r = l + 1;
        const c = r < d.length && d[r] < d[l] ? r : l;
        if (d[c] >= lastD) break;
        d[i] = d[c];
        ids[i] = ids[c];
        i = c;
      }
      d[i] = lastD;
      ids[i] = lastId;
    }
    return top;
  }
}
