import type { Placement, PlacementChange } from './placement.ts';

/**
 * A fixed member list, no store: the single-node ring of the embedded default, and a
 * stand-in for tests and benches that measure routing without membership.
 */
export class StaticPlacement implements Placement {
  constructor(
    readonly selfId: string | null,
    private readonly nodes: string[],
  ) {
    this.nodes = [...nodes].sort();
  }
  readonly selfAlive = true;
  owner(_showId: string): string | null {
    return this.nodes[0] ?? null;
  }
  replica(_showId: string): string | null {
    return this.nodes[1] ?? null;
  }
  members(): string[] {
    return [...this.nodes];
  }
  onChange(_listener: (change: PlacementChange) => void): () => void {
    return () => {};
  }
  async refresh(): Promise<void> {}
}
