import type { SeatDelta } from '../../actors/deltas.ts';
import { labelRows, seatIndexOf, type LabelRows } from '../../actors/seat-map.ts';
import { SEAT_STATUSES, type SeatStatus } from '../../actors/types.ts';
import { STATUS_CHARS } from '../../actors/views.ts';
import type { CompactSeatMap } from '../../service/seat-service.ts';
import type { LayoutRow } from './protocol.ts';

const CHAR_OF: Record<SeatStatus, number> = Object.fromEntries(SEAT_STATUSES.map((s, i) => [s, STATUS_CHARS.charCodeAt(i)])) as Record<
  SeatStatus,
  number
>;

/**
 * A gateway's copy of one show's seat map, kept current from the deltas it fans out, so a
 * snapshot for a new or recovering watcher costs no call to the show's owner. Statuses are
 * one byte (the status character) per seat; the serialized snapshot is built lazily, at
 * most once per version, and shared by every socket that needs it.
 */
export class SeatMirror {
  readonly showId: string;
  readonly layoutVersion: number;
  version: number;
  status: CompactSeatMap['status'];
  private readonly codes: Uint8Array;
  /** Label → seat index: derived from the rows when their labels follow them, else a table. */
  private readonly indexOf: (label: string) => number | undefined;
  /** `"rows":[...]` plus labels/categoryOf only when the rows cannot express them. */
  private readonly layoutJson: string;
  private readonly categoriesJson: string;
  private cached: { version: number; withLayout?: Buffer; bare?: Buffer } = { version: -1 };

  constructor(map: CompactSeatMap) {
    this.showId = map.showId;
    this.version = map.version;
    this.layoutVersion = map.layoutVersion;
    this.status = map.status;
    this.codes = Buffer.from(map.seats, 'latin1');
    const layout = encodeLayout(map);
    this.layoutJson = layout.json;
    const byRows = layout.labelRows;
    if (byRows) this.indexOf = (label) => seatIndexOf(byRows, label);
    else {
      const table = new Map(map.labels.map((l, i) => [l, i]));
      this.indexOf = (label) => table.get(label);
    }
    this.categoriesJson = JSON.stringify(map.categories);
  }

  get seatCount(): number {
    return this.codes.length;
  }

  /** Applies a delta that follows this version (the caller checked contiguity). */
  apply(delta: SeatDelta): void {
    for (const [label, status] of delta.changes) {
      const i = this.indexOf(label);
      if (i !== undefined) this.codes[i] = CHAR_OF[status];
    }
    this.version = delta.version;
    this.status = delta.showStatus;
  }

  /** The snapshot frame at the current version, serialized once and shared. */
  snapshotFrame(withLayout: boolean): Buffer {
    if (this.cached.version !== this.version) this.cached = { version: this.version };
    const key = withLayout ? 'withLayout' : 'bare';
    let frame = this.cached[key];
    if (!frame) {
      const head =
        `{"type":"snapshot","showId":${JSON.stringify(this.showId)},"version":${this.version},` +
        `"layoutVersion":${this.layoutVersion},"status":${JSON.stringify(this.status)},` +
        `"categories":${this.categoriesJson},${withLayout ? `${this.layoutJson},` : ''}"seats":"`;
      // Status characters need no JSON escaping: the bytes go in as they are.
      frame = Buffer.concat([Buffer.from(head), this.codes, Buffer.from('"}')]);
      this.cached[key] = frame;
    }
    return frame;
  }
}

/**
 * Rows carry a label prefix, first number and category, so a 100,000-seat layout costs a
 * few KB instead of a megabyte of labels. Labels and categoryOf are added only when some
 * row does not follow the `${prefix}${first + k}` pattern or mixes categories.
 */
function encodeLayout(map: CompactSeatMap): { json: string; labelRows: LabelRows | null } {
  const rows: LayoutRow[] = [];
  let regular = true;
  let uniform = true;
  for (const r of map.rows) {
    const firstLabel = map.labels[r.start] ?? '';
    const m = /^(.*?)(\d+)$/.exec(firstLabel);
    const prefix = m ? m[1] : firstLabel;
    const first = m ? Number(m[2]) : 0;
    const category = map.categoryOf[r.start] ?? 0;
    for (let k = 0; k < r.count; k++) {
      if (regular && map.labels[r.start + k] !== `${prefix}${first + k}`) regular = false;
      if (uniform && map.categoryOf[r.start + k] !== category) uniform = false;
    }
    rows.push({ section: r.section, label: r.label, start: r.start, count: r.count, prefix, first, category });
  }
  let json = `"rows":${JSON.stringify(rows)}`;
  if (!regular) json += `,"labels":${JSON.stringify(map.labels)}`;
  if (!uniform) json += `,"categoryOf":${JSON.stringify(map.categoryOf)}`;
  // Seat labels always put `-` before the number; anything else keeps the table.
  const derivable = regular && rows.every((r) => r.count === 0 || r.prefix.endsWith('-'));
  return {
    json,
    labelRows: derivable
      ? labelRows(
          rows,
          rows.map((r) => r.prefix),
          rows.map((r) => r.first),
        )
      : null,
  };
}
