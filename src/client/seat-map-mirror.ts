import { SEAT_STATUSES, STATUS_CHARS, type SeatStatus } from '../actors/types.ts';
import type { DeltaFrameShape, SnapshotFrameShape } from '../gateway/ws/protocol.ts';

/** What `watch` hands to its listener: the live map in the shape of `GET /v1/shows/{id}`'s seats. */
export interface LiveSeatMap {
  showId: string;
  version: number;
  status: 'scheduled' | 'cancelled';
  seats: Array<{ id: string; status: SeatStatus }>;
}

/** The frames the mirror reads, as the server sends them (README, "WebSocket"). */
export type SnapshotFrame = SnapshotFrameShape;
export type DeltaFrame = DeltaFrameShape;

const STATUS_OF: Record<string, SeatStatus> = Object.fromEntries(SEAT_STATUSES.map((status, i) => [STATUS_CHARS[i], status]));

/**
 * A client's copy of one show's seat map, fed by snapshot and delta frames. Pure: no socket.
 * `apply` answers what the caller must do: `changed` (tell the listener), `ignored` (an old
 * delta), or `gap` (a delta from a version after ours: resubscribe with `fromVersion`).
 */
export class SeatMapMirror {
  version = 0;
  layoutVersion = 0;
  private labels: string[] = [];
  private statuses: SeatStatus[] = [];
  private index = new Map<string, number>();
  private showStatus: 'scheduled' | 'cancelled' = 'scheduled';

  constructor(readonly showId: string) {}

  get hasMap(): boolean {
    return this.version > 0;
  }

  apply(frame: SnapshotFrame | DeltaFrame): 'changed' | 'ignored' | 'gap' {
    if (frame.type === 'snapshot') {
      if (frame.labels) this.setLabels(frame.labels);
      else if (frame.rows) this.setLabels(labelsOf(frame.rows));
      this.layoutVersion = frame.layoutVersion;
      this.statuses = Array.from(frame.seats, (c) => STATUS_OF[c] ?? 'available');
      this.version = frame.version;
      this.showStatus = frame.status;
      return 'changed';
    }
    if (frame.version <= this.version) return 'ignored';
    if (frame.fromVersion > this.version) return 'gap';
    for (const [label, status] of frame.changes) {
      const i = this.index.get(label);
      if (i !== undefined) this.statuses[i] = status;
    }
    if (frame.showStatus) this.showStatus = frame.showStatus;
    this.version = frame.version;
    return 'changed';
  }

  map(): LiveSeatMap {
    return {
      showId: this.showId,
      version: this.version,
      status: this.showStatus,
      seats: this.labels.map((id, i) => ({ id, status: this.statuses[i] })),
    };
  }

  private setLabels(labels: string[]): void {
    this.labels = labels;
    this.index = new Map(labels.map((l, i) => [l, i]));
  }
}

function labelsOf(rows: NonNullable<SnapshotFrame['rows']>): string[] {
  const labels: string[] = [];
  for (const r of rows) for (let k = 0; k < r.count; k++) labels[r.start + k] = `${r.prefix}${r.first + k}`;
  return labels;
}
