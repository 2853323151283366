/**
 * Long-lived slots (WebSockets, gRPC watch streams) counted in total and per client address,
 * so one client cannot take every slot: it gets at most `perAddress` of them, and never more
 * than half of `total`. 0 for `perAddress` switches the per-address cap off (benches). Concurrency: the
 * event loop; take and give are synchronous.
 */
export class AddressSlots {
  readonly total: number;
  readonly perAddress: number;
  private readonly held = new Map<string, number>();
  private used = 0;

  constructor(total: number, perAddress: number) {
    this.total = total;
    const share = Math.max(1, Math.floor(total / 2));
    this.perAddress = perAddress > 0 ? Math.min(perAddress, share) : total;
  }

  get size(): number {
    return this.used;
  }

  /** Why a slot cannot be had now, without taking one. */
  refusal(address: string): 'full' | 'address' | null {
    if (this.used >= this.total) return 'full';
    if ((this.held.get(address) ?? 0) >= this.perAddress) return 'address';
    return null;
  }

  /** Takes a slot; null when taken, else why not. Every taken slot must be given back once. */
  take(address: string): 'full' | 'address' | null {
    const refused = this.refusal(address);
    if (refused) return refused;
    this.held.set(address, (this.held.get(address) ?? 0) + 1);
    this.used++;
    return null;
  }

  give(address: string): void {
    const n = this.held.get(address);
    if (n === undefined) return;
    if (n <= 1) this.held.delete(address);
    else this.held.set(address, n - 1);
    this.used--;
  }
}
