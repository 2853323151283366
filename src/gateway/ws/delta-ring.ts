/** One coalesced delta as it went out: its version range and the serialized frame. */
export interface SentDelta {
  fromVersion: number;
  version: number;
  frame: Buffer;
}

/**
 * The last few coalesced deltas of a show, bounded by count and bytes, so a client that
 * reconnects with `fromVersion` gets only what it missed. Contiguous by construction: the
 * channel clears it whenever it resyncs.
 */
export class DeltaRing {
  private items: SentDelta[] = [];
  private bytes = 0;

  constructor(
    private readonly maxFrames: number,
    private readonly maxBytes: number,
  ) {}

  push(d: SentDelta): void {
    this.items.push(d);
    this.bytes += d.frame.length;
    let drop = 0;
    while (this.items.length - drop > this.maxFrames || (this.bytes > this.maxBytes && this.items.length - drop > 1)) {
      this.bytes -= this.items[drop].frame.length;
      drop++;
    }
    // One splice per push instead of a shift per dropped item.
    if (drop) this.items.splice(0, drop);
  }

  clear(): void {
    this.items = [];
    this.bytes = 0;
  }

  /** The oldest version the ring can bring a client forward from, or null when empty. */
  get oldestFrom(): number | null {
    return this.items.length ? this.items[0].fromVersion : null;
  }

  /** Every kept delta that takes a client at `version` forward. */
  since(version: number): SentDelta[] {
    return this.items.filter((d) => d.version > version);
  }
}
