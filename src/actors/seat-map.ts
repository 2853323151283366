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
 * by these numbers.
 */
export interface SeatMap {
  labels: string[];
  indexByLabel: Map<string, number>;
  /** Index into `categories` for every seat. */
  categoryOf: Uint16Array;
  categories: string[];
  rows: RowSpan[];
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
  const labels = new Array<string>(capacity);
  const indexByLabel = new Map<string, number>();
  const categoryOf = new Uint16Array(capacity);
  const rows: RowSpan[] = [];
  let i = 0;
  for (const section of layout.sections) {
    for (const row of section.rows) {
      const cat = categoryIndex.get(row.category) ?? 0;
      rows.push({ section: section.id, label: row.label, start: i, count: row.seats });
      const first = row.firstNumber ?? 1;
      for (let n = 0; n < row.seats; n++, i++) {
        const label = seatLabel(layout, section.id, row.label, first + n);
        labels[i] = label;
        indexByLabel.set(label, i);
        categoryOf[i] = cat;
      }
    }
  }
  return { labels, indexByLabel, categoryOf, categories: categoryIds, rows };
}
