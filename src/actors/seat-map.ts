import type { Layout, Category } from './types.ts';

/** One row of seats, contiguous in the seat index space. */
export interface RowSpan {
  section: string;
  label: string;
  /** Index of the row's first seat. */
  start: number;
  count: number;
}

/**
 * The immutable index of a layout: seat labels <-> dense seat indices, and each seat's
 * category. Rebuilt only when the layout changes; every per-seat mutable array is indexed
 * by these numbers. Labels are not stored per seat (a string and a map entry per seat cost
 * ~70 bytes, twenty times the seat's status and category): they are derived from the rows,
 * with seatLabelAt / seatIndexOf / forEachSeatLabel.
 */
export interface SeatMap {
  /** Number of seats. */
  capacity: number;
  /** Index into `categories` for every seat. */
  categoryOf: Uint16Array;
  categories: string[];
  rows: RowSpan[];
  /** Per row: what its labels start with, `<row>-` or `<section>:<row>-`. */
  rowPrefix: string[];
  /** Per row: the number of its first seat. */
  rowFirst: number[];
  /** Per row: its start, as a typed array for the binary search. */
  rowStarts: Float64Array;
  /** Row indices by prefix, in layout order (several only in layouts that repeat a row). */
  rowsByPrefix: Map<string, number[]>;
}

/** Seat labels are `<row>-<number>`, prefixed `<section>:` when the layout has several sections. */
export function seatLabel(layout: Layout, section: string, row: string, number: number): string {
  return layout.sections.length > 1 ? `${section}:${row}-${number}` : `${row}-${number}`;
}

export function buildSeatMap(layout: Layout, categories: Category[]): SeatMap {
  const categoryIds = categories.map((c) => c.id);
  const categoryIndex = new Map(categoryIds.map((id, i) => [id, i]));
  let capacity = 0;
  for (const section of layout.sections) for (const row of section.rows) capacity += row.seats;
  const categoryOf = new Uint16Array(capacity);
  const rows: RowSpan[] = [];
  const rowPrefix: string[] = [];
  const rowFirst: number[] = [];
  const rowsByPrefix = new Map<string, number[]>();
  const many = layout.sections.length > 1;
  let i = 0;
  for (const section of layout.sections) {
    for (const row of section.rows) {
      const cat = categoryIndex.get(row.category) ?? 0;
      const prefix = many ? `${section.id}:${row.label}-` : `${row.label}-`;
      const r = rows.length;
      rows.push({ section: section.id, label: row.label, start: i, count: row.seats });
      rowPrefix.push(prefix);
      rowFirst.push(row.firstNumber ?? 1);
      const same = rowsByPrefix.get(prefix);
      if (same) same.push(r);
      else rowsByPrefix.set(prefix, [r]);
      categoryOf.fill(cat, i, i + row.seats);
      i += row.seats;
    }
  }
  const rowStarts = Float64Array.from(rows, (r) => r.start);
  return { capacity, categoryOf, categories: categoryIds, rows, rowPrefix, rowFirst, rowStarts, rowsByPrefix };
}

/** The row holding seat `seat` (0 <= seat < capacity): the last row starting at or before it. */
function rowOf(map: SeatMap, seat: number): number {
  const starts = map.rowStarts;
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid] <= seat) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The label of seat index `seat`; undefined outside the map. */
export function seatLabelAt(map: SeatMap, seat: number): string | undefined {
  if (!(seat >= 0 && seat < map.capacity) || !Number.isInteger(seat)) return undefined;
  const r = rowOf(map, seat);
  return `${map.rowPrefix[r]}${map.rowFirst[r] + (seat - map.rows[r].start)}`;
}

/** seatLabelAt for an index known to be in the map (indices held by the state always are). */
export function labelOf(map: SeatMap, seat: number): string {
  return seatLabelAt(map, seat) as string;
}

/**
 * The index of the seat labelled `label`, or undefined: exactly the seats buildSeatMap
 * numbers, nothing else (`A-01`, `A-1.5`, ` A-1` resolve to nothing). The number follows
 * some `-`; every split whose prefix names a row is tried, and when labels collide (only in
 * layouts whose row labels contain `-` or numbers go negative) the later seat wins, as
 * a label → index table built in seat order would give.
 */
export function seatIndexOf(map: SeatMap, label: string): number | undefined {
  let found: number | undefined;
  for (let p = label.indexOf('-'); p >= 0; p = label.indexOf('-', p + 1)) {
    const candidates = map.rowsByPrefix.get(label.slice(0, p + 1));
    if (!candidates) continue;
    const text = label.slice(p + 1);
    const number = Number(text);
    if (text === '' || !Number.isFinite(number)) continue;
    for (const r of candidates) {
      const k = Math.round(number - map.rowFirst[r]);
      const { start, count } = map.rows[r];
      if (k < 0 || k >= count) continue;
      // Compare the text itself: it must be exactly how the seat's number prints.
      if (`${map.rowFirst[r] + k}` !== text) continue;
      if (found === undefined || start + k > found) found = start + k;
    }
  }
  return found;
}

/** Calls `fn` with the label and index of seats from..to-1 in order, walking rows (no search per seat). */
export function forEachSeatLabel(map: SeatMap, from: number, to: number, fn: (label: string, seat: number) => void): void {
  const end = Math.min(to, map.capacity);
  if (from >= end) return;
  let r = rowOf(map, from);
  let seat = from;
  while (seat < end) {
    const { start, count } = map.rows[r];
    const prefix = map.rowPrefix[r];
    const first = map.rowFirst[r];
    const rowEnd = Math.min(end, start + count);
    for (; seat < rowEnd; seat++) fn(`${prefix}${first + (seat - start)}`, seat);
    r++;
  }
}

/** Every label in index order: for the forms that list them (compact map), not for lookups. */
export function seatLabels(map: SeatMap, from = 0, to = map.capacity): string[] {
  const out: string[] = [];
  forEachSeatLabel(map, from, to, (label) => out.push(label));
  return out;
}
