import { buildSeatMap, seatLabels, type SeatMap } from '../actors/seat-map.ts';
import type { ShowState } from '../actors/show-state.ts';
import { SEAT_STATUSES, type Category, type Layout, type SeatStatus } from '../actors/types.ts';
import { STATUS_CHARS, compactStatuses, showHead, type SeatView, type ShowView } from '../actors/views.ts';
import type { CompactSeatMap } from '../service/seat-service.ts';

/**
 * A show's map as it crosses the hop: the show without its seats, and one status character
 * per seat. Labels, categories and prices follow from the layout, so the gateway rebuilds
 * them there (once per layout, cached) instead of receiving them: 200,000 seats are about
 * 200 KB on the wire instead of 13.8 MB of full view. Pure.
 */
export interface ShowMapWire {
  head: Omit<ShowView, 'seats'>;
  /** One of STATUS_CHARS per seat, in seat-index order. */
  seats: string;
}

/** On the owner: the wire map of a show's committed state (the head is showView's, built by the same function). */
export function mapWireOf(state: ShowState): ShowMapWire {
  return { head: showHead(state), seats: compactStatuses(state) };
}

const CHAR_OF: Readonly<Record<SeatStatus, string>> = Object.fromEntries(SEAT_STATUSES.map((s, i) => [s, STATUS_CHARS[i]])) as Record<
  SeatStatus,
  string
>;

/** On the owner: the wire map of a full view a command answered with. */
export function viewToMapWire(view: ShowView): ShowMapWire {
  const { seats, ...head } = view;
  const chars = new Array<string>(seats.length);
  for (let i = 0; i < seats.length; i++) chars[i] = CHAR_OF[seats[i].status];
  return { head, seats: chars.join('') };
}

/**
 * What the gateway derives from a layout once: the seat map, its labels listed in index
 * order (the expanded views carry them all) and categoryOf as a plain array for JSON.
 */
export interface LayoutIndex {
  map: SeatMap;
  labels: string[];
  categoryOf: number[];
}

/** The seat map, labels and categories the owner derives from the same layout. */
export function layoutIndex(layout: Layout, categories: Category[]): LayoutIndex {
  const map = buildSeatMap(layout, categories);
  return { map, labels: seatLabels(map), categoryOf: Array.from(map.categoryOf) };
}

/** Most seats whose layout indexes a gateway keeps (about 30 bytes a seat). */
export const DEFAULT_LAYOUT_CACHE_SEATS = 1_000_000;

/**
 * Layout indexes by show and layout version, least recently used first out, bounded by
 * the seats they hold. Category ids are part of the key: a price change that renames
 * categories re-derives the index.
 */
export class LayoutCache {
  private readonly entries = new Map<string, LayoutIndex>();
  private seats = 0;

  constructor(private readonly maxSeats = DEFAULT_LAYOUT_CACHE_SEATS) {}

  indexOf(head: ShowMapWire['head']): LayoutIndex {
    const key = `${head.id}\u0000${head.layoutVersion}\u0000${head.categories.map((c) => c.id).join(',')}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const index = layoutIndex(head.layout, head.categories);
    this.entries.set(key, index);
    this.seats += index.map.capacity;
    for (const [k, v] of this.entries) {
      if (this.seats <= this.maxSeats || this.entries.size === 1) break;
      this.entries.delete(k);
      this.seats -= v.map.capacity;
    }
    return index;
  }

  get size(): number {
    return this.entries.size;
  }
}

function checkLength(wire: ShowMapWire, index: LayoutIndex): void {
  if (index.map.capacity !== wire.seats.length)
    throw new Error(`map of ${wire.head.id} has ${wire.seats.length} statuses for ${index.map.capacity} seats`);
}

const STATUS_OF: Readonly<Record<string, SeatStatus>> = Object.fromEntries(SEAT_STATUSES.map((s, i) => [STATUS_CHARS[i], s]));

/** At the gateway: the full view, equal to what showView gives on the owner. */
export function expandView(wire: ShowMapWire, index: LayoutIndex): ShowView {
  checkLength(wire, index);
  const { categoryOf, categories } = index.map;
  const { labels } = index;
  const prices = categories.map((id) => wire.head.categories.find((c) => c.id === id)?.price ?? 0);
  const seats = new Array<SeatView>(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const cat = categoryOf[i];
    seats[i] = { id: labels[i], category: categories[cat], price: prices[cat], status: STATUS_OF[wire.seats[i]] };
  }
  return { ...wire.head, seats };
}

/** At the gateway: the compact seat map, equal to what the owner's getSeatMap gives. */
export function expandSeatMap(wire: ShowMapWire, index: LayoutIndex): CompactSeatMap {
  checkLength(wire, index);
  const h = wire.head;
  return {
    showId: h.id,
    version: h.version,
    layoutVersion: h.layoutVersion,
    status: h.status,
    labels: index.labels,
    categoryOf: index.categoryOf,
    categories: h.categories,
    seats: wire.seats,
    rows: index.map.rows,
  };
}
