/**
 * A client's picture of which seats of one show look free: a dense list with O(1) take,
 * give back and uniform random pick. It is a guess (other clients race for the same
 * seats); conflicts correct it.
 */
export class SeatView {
  private readonly free: Int32Array;
  /** Position of each seat in `free`, or -1 when it looks taken. */
  private readonly pos: Int32Array;
  private size: number;

  constructor(readonly capacity: number) {
    this.free = new Int32Array(capacity);
    this.pos = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) {
      this.free[i] = i;
      this.pos[i] = i;
    }
    this.size = capacity;
  }

  get freeCount(): number {
    return this.size;
  }

  take(seat: number): void {
    if (seat < 0 || seat >= this.capacity) return;
    const p = this.pos[seat];
    if (p < 0) return;
    const last = this.free[--this.size];
    this.free[p] = last;
    this.pos[last] = p;
    this.pos[seat] = -1;
  }

  give(seat: number): void {
    if (seat < 0 || seat >= this.capacity || this.pos[seat] >= 0) return;
    this.free[this.size] = seat;
    this.pos[seat] = this.size++;
  }

  /** Takes `k` random free-looking seats; fewer when fewer look free. */
  pick(k: number): number[] {
    const out: number[] = [];
    while (out.length < k && this.size > 0) {
      const seat = this.free[Math.floor(Math.random() * this.size)];
      this.take(seat);
      out.push(seat);
    }
    return out;
  }
}
