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
export interface SeatMap extends LabelRows {
  /** Number of seats. */
  capacity: number;
  /** Index into `categories` for every seat. */
  categoryOf: Uint16Array;
  categories: string[];
  rows: RowSpan[];
  /** Per row: its start, as a typed array for the binary search. */
  rowStarts: Float64Array;
}

/** Rows whose seats are labelled `<prefix><first + k>`: all a label → index lookup needs. */
export interface LabelRows {
  rows: ReadonlyArray<{ start: number; count: number }>;
  /** Per row: what its labels start with (ends with `-`), e.g. `<row>-` or `<section>:<row>-`. */
  rowPrefix: string[];
  /** Per row: the number of its first seat. */
  rowFirst: number[];
  /** Row indices by prefix, in layout order (several only in layouts that repeat a row). */
  rowsByPrefix: Map<string, number[]>;
}

/** The prefix table of rows given in seat order. */
export function labelRows(rows: ReadonlyArray<{ start: number; count: number }>, rowPrefix: string[], rowFirst: number[]): LabelRows {
  const rowsByPrefix = new Map<string, number[]>();
  rowPrefix.forEach((prefix, r) => {
    const same = rowsByPrefix.get(prefix);
    if (same) same.push(r);
    else rowsByPrefix.set(prefix, [r]);
  });
  return { rows, rowPrefix, rowFirst, rowsByPrefix };
}

/**
 * The one rule for seat ids. A seat is `<row>-<number>` in the show's unqualified section
 * and `<section>:<row>-<number>` in every other section. Which section is unqualified is
 * fixed when the show is created (see unqualifiedSectionOf) and carried through every
 * change, so an id names the same (section, row, number) for the life of the show.
 */
export function seatLabel(layout: Layout, section: string, row: string, number: number): string {
  return `${labelPrefix(unqualifiedSectionOf(layout), section, row)}${number}`;
}

/**
 * The section whose seats carry no `<section>:` prefix, or null when every section is
 * prefixed. A layout that does not say (created before shows remembered it, or not yet
 * through the create decision) follows the rule such layouts were always read with: the
 * only section of a one-section layout, none of a layout with several.
 */
export function unqualifiedSectionOf(layout: Layout): string | null {
  if (layout.unqualifiedSection !== undefined) return layout.unqualifiedSection;
  return layout.sections.length === 1 ? layout.sections[0].id : null;
}

/** The layout with its seat-id rule written down, so later layouts can be made to keep it. */
export function withSeatIdRule(layout: Layout, unqualifiedSection: string | null = unqualifiedSectionOf(layout)): Layout {
  return layout.unqualifiedSection === unqualifiedSection ? layout : { ...layout, unqualifiedSection };
}

/** What every seat label of a row starts with: all of it but the number. */
function labelPrefix(unqualified: string | null, section: string, row: string): string {
  return section === unqualified ? `${row}-` : `${section}:${row}-`;
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
  const unqualified = unqualifiedSectionOf(layout);
  let i = 0;
  for (const section of layout.sections) {
    for (const row of section.rows) {
      const cat = categoryIndex.get(row.category) ?? 0;
      const prefix = labelPrefix(unqualified, section.id, row.label);
      rows.push({ section: section.id, label: row.label, start: i, count: row.seats });
      rowPrefix.push(prefix);
      rowFirst.push(row.firstNumber ?? 1);
      categoryOf.fill(cat, i, i + row.seats);
      i += row.seats;
    }
  }
  const rowStarts = Float64Array.from(rows, (r) => r.start);
  return { ...labelRows(rows, rowPrefix, rowFirst), capacity, categoryOf, categories: categoryIds, rows, rowStarts };
}

/** Seat maps by the layout and categories objects they were built from. */
const builtMaps = new WeakMap<Layout, WeakMap<Category[], SeatMap>>();

/**
 * The seat map of a definition, built once per layout and categories objects. One command
 * reaches the map several times (decide checks seats against it, evolve installs it, a
 * change that keeps the layout keeps its objects), and a stadium's categoryOf is a 200,000-
 * element array: identity is enough because definitions are never changed in place (a change
 * makes a new definition; the show's state holds on to the one it was built from).
 */
export function seatMapOf(def: { layout: Layout; categories: Category[] }): SeatMap {
  let byCategories = builtMaps.get(def.layout);
  if (!byCategories) {
    byCategories = new WeakMap();
    builtMaps.set(def.layout, byCategories);
  }
  let map = byCategories.get(def.categories);
  if (!map) {
    map = buildSeatMap(def.layout, def.categories);
    byCategories.set(def.categories, map);
  }
  return map;
}

/** The row holding seat `seat` (0 <= seat < capacity): the last row starting at or before it. */
export function rowOf(map: SeatMap, seat: number): number {
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
export function seatIndexOf(map: LabelRows, label: string): number | undefined {
  const dash = label.indexOf('-');
  const n = dash >= 0 && dash === label.lastIndexOf('-') ? canonicalDigits(label, dash + 1) : -1;
  if (n >= 0) {
    // The usual label: one `-` and canonical digits after it (no sign, no leading 0), read
    // by hand without the allocations of the general path below.
    const candidates = map.rowsByPrefix.get(label.slice(0, dash + 1));
    if (!candidates) return undefined;
    let found: number | undefined;
    for (const r of candidates) {
      const first = map.rowFirst[r];
      const k = Math.round(n - first);
      // Numbers equal means texts equal: `n` prints as the canonical digits it was read from.
      if (k >= 0 && k < map.rows[r].count && first + k === n) found = map.rows[r].start + k;
    }
    return found;
  }
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

/**
 * Walks seats from..to-1 in order as runs within one row: `fn(prefix, number, runFrom, runTo)`
 * where seat runFrom is labelled `${prefix}${number}` and each next seat's number is one more.
 * One search for the first row, none per seat.
 */
export function forEachRowRun(
  map: SeatMap,
  from: number,
  to: number,
  fn: (prefix: string, number: number, runFrom: number, runTo: number) => void,
): void {
  const end = Math.min(to, map.capacity);
  if (from >= end) return;
  let r = rowOf(map, from);
  let seat = from;
  while (seat < end) {
    const { start, count } = map.rows[r];
    const rowEnd = Math.min(end, start + count);
    if (seat < rowEnd) fn(map.rowPrefix[r], map.rowFirst[r] + (seat - start), seat, rowEnd);
    seat = Math.max(seat, rowEnd);
    r++;
  }
}

/** The value of label[from..] if it is a canonical decimal integer below 10^15, else -1. */
function canonicalDigits(label: string, from: number): number {
  const len = label.length - from;
  if (len < 1 || len > 15 || (len > 1 && label.charCodeAt(from) === 48)) return -1;
  let n = 0;
  for (let j = from; j < label.length; j++) {
    const d = label.charCodeAt(j) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** Calls `fn` with the label and index of seats from..to-1 in order, walking rows (no search per seat). */
export function forEachSeatLabel(map: SeatMap, from: number, to: number, fn: (label: string, seat: number) => void): void {
  forEachRowRun(map, from, to, (prefix, number, runFrom, runTo) => {
    for (let seat = runFrom, n = number; seat < runTo; seat++, n++) fn(`${prefix}${n}`, seat);
  });
}

/** Every label in index order: for the forms that list them (compact map), not for lookups. */
export function seatLabels(map: SeatMap, from = 0, to = map.capacity): string[] {
  const out: string[] = [];
  forEachSeatLabel(map, from, to, (label) => out.push(label));
  return out;
}
