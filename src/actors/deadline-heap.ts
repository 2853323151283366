/**
 * A binary min-heap of (deadline, id) pairs with one entry per id: setting an id again moves
 * its entry, and `delete` takes it out, so the heap holds exactly the live deadlines (a hold
 * released or confirmed leaves no entry behind until its old deadline).
 */
export class DeadlineHeap {
  private readonly deadlines: number[] = [];
  private readonly ids: string[] = [];
  /** Index in the arrays of every id in the heap. */
  private readonly at = new Map<string, number>();

  get size(): number {
    return this.deadlines.length;
  }

  peek(): number | undefined {
    return this.deadlines[0];
  }

  has(id: string): boolean {
    return this.at.has(id);
  }

  /** Adds `id`, or moves it to `deadline` if it is already in the heap. */
  set(deadline: number, id: string): void {
    const i = this.at.get(id);
    if (i === undefined) {
      this.deadlines.push(deadline);
      this.ids.push(id);
      this.at.set(id, this.deadlines.length - 1);
      this.up(this.deadlines.length - 1);
      return;
    }
    const before = this.deadlines[i];
    this.deadlines[i] = deadline;
    if (deadline < before) this.up(i);
    else this.down(i);
  }

  delete(id: string): boolean {
    const i = this.at.get(id);
    if (i === undefined) return false;
    this.removeAt(i);
    return true;
  }

  /** Removes and returns every id whose deadline is <= now. */
  popDue(now: number): string[] {
    const due: string[] = [];
    while (this.deadlines.length && this.deadlines[0] <= now) {
      due.push(this.ids[0]);
      this.removeAt(0);
    }
    return due;
  }

  clear(): void {
    this.deadlines.length = 0;
    this.ids.length = 0;
    this.at.clear();
  }

  private removeAt(i: number): void {
    const last = this.deadlines.length - 1;
    this.at.delete(this.ids[i]);
    if (i !== last) {
      this.place(i, this.deadlines[last], this.ids[last]);
      this.deadlines.pop();
      this.ids.pop();
      this.up(i);
      this.down(i);
    } else {
      this.deadlines.pop();
      this.ids.pop();
    }
  }

  private place(i: number, deadline: number, id: string): void {
    this.deadlines[i] = deadline;
    this.ids[i] = id;
    this.at.set(id, i);
  }

  private up(i: number): void {
    const d = this.deadlines[i];
    const id = this.ids[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.deadlines[parent] <= d) break;
      this.place(i, this.deadlines[parent], this.ids[parent]);
      i = parent;
    }
    this.place(i, d, id);
  }

  private down(i: number): void {
    const n = this.deadlines.length;
    const d = this.deadlines[i];
    const id = this.ids[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.deadlines[r] < this.deadlines[l] ? r : l;
      if (this.deadlines[c] >= d) break;
      this.place(i, this.deadlines[c], this.ids[c]);
      i = c;
    }
    this.place(i, d, id);
  }
}
