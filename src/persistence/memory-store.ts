import { ErrorCode, SeatError } from '../errors.ts';
import type { ShowSummary } from '../actors/views.ts';
import type { AppendBatch, Catalog, CatalogFilter, EventLog, LogEntry, PipelinedAppend, Snapshot, SnapshotStore } from '../core/ports.ts';

/** Volatile implementations of the storage ports: for unit tests and benchmarks of the core. */

export class MemoryEventLog implements EventLog {
  private seq = 0;
  private readonly byShow = new Map<string, LogEntry[]>();
  private readonly batchIds = new Map<string, number>();

  async append(showId: string, batch: AppendBatch, expectedLastSeq: number): Promise<number> {
    const dup = this.batchIds.get(batch.batchId);
    if (dup !== undefined) return dup;
    const entries = this.byShow.get(showId) ?? [];
    const last = entries.length ? entries[entries.length - 1].seq : 0;
    if (last !== expectedLastSeq)
      throw new SeatError(ErrorCode.NOT_OWNER, `log of ${showId} is at ${last}, writer expected ${expectedLastSeq}`);
    const seq = ++this.seq;
    entries.push({ seq, showId, batchId: batch.batchId, firstVersion: batch.firstVersion, events: batch.events });
    this.byShow.set(showId, entries);
    this.batchIds.set(batch.batchId, seq);
    return seq;
  }

  /** Writes at call time, so the seq is known at once. */
  appendPipelined(showId: string, batch: AppendBatch, expectedLastSeq: number): PipelinedAppend {
    const committed = this.append(showId, batch, expectedLastSeq);
    const dup = this.batchIds.get(batch.batchId);
    return { seq: dup ?? null, committed };
  }

  async *read(showId: string, afterSeq: number): AsyncIterable<LogEntry> {
    for (const e of this.byShow.get(showId) ?? []) if (e.seq > afterSeq) yield structuredClone(e);
  }

  async lastSeq(showId: string): Promise<number> {
    const entries = this.byShow.get(showId);
    return entries?.length ? entries[entries.length - 1].seq : 0;
  }

  async showIds(): Promise<string[]> {
    return [...this.byShow.keys()];
  }

  async close(): Promise<void> {}
}

export class MemorySnapshotStore implements SnapshotStore {
  private readonly snapshots = new Map<string, Snapshot>();

  async save(snapshot: Snapshot): Promise<boolean> {
    const current = this.snapshots.get(snapshot.showId);
    if (current && current.logSeq >= snapshot.logSeq) return false;
    this.snapshots.set(snapshot.showId, structuredClone(snapshot));
    return true;
  }

  async load(showId: string): Promise<Snapshot | null> {
    const s = this.snapshots.get(showId);
    return s ? structuredClone(s) : null;
  }

  async delete(showId: string): Promise<void> {
    this.snapshots.delete(showId);
  }

  async close(): Promise<void> {}
}

/** Local date (YYYY-MM-DD) of an ISO time with offset: its own calendar part. */
export function localDateOf(startsAt: string): string {
  return startsAt.slice(0, 10);
}

/** The catalog filter as a pure predicate, shared by the in-memory and file catalogs. */
export function matchesFilter(s: ShowSummary, f: CatalogFilter): boolean {
  if (f.city !== undefined && s.city.toLowerCase() !== f.city.toLowerCase()) return false;
  if (f.date !== undefined && localDateOf(s.startsAt) !== f.date) return false;
  if (f.q !== undefined) {
    const q = f.q.toLowerCase();
    if (!s.title.toLowerCase().includes(q) && !s.venue.toLowerCase().includes(q)) return false;
  }
  return true;
}

export class MemoryCatalog implements Catalog {
  protected readonly shows = new Map<string, ShowSummary>();

  async upsert(summary: ShowSummary): Promise<void> {
    const current = this.shows.get(summary.id);
    if (current && current.version > summary.version) return;
    this.shows.set(summary.id, { ...summary });
  }

  async list(filter: CatalogFilter): Promise<ShowSummary[]> {
    const all = [...this.shows.values()]
      .filter((s) => matchesFilter(s, filter))
      .sort((a, b) => a.startsAt.localeCompare(b.startsAt) || a.id.localeCompare(b.id));
    const offset = filter.offset ?? 0;
    return all.slice(offset, offset + (filter.limit ?? 100));
  }

  async close(): Promise<void> {}
}
