import { countsAt } from './report-tally.ts';
import type { SeatCounts, ShowState } from './show-state.ts';

/** A show's report for its theatre (admin): seat counts overall, per category and per section, and sales. */
export interface ShowReport {
  showId: string;
  version: number;
  seats: SeatCounts;
  /** By category id: its seats by status and its current price (minor units). */
  categories: Record<string, SeatCounts & { price: number }>;
  /** By section id: its seats by status. */
  sections: Record<string, SeatCounts>;
  /** See SalesTally (report-tally.ts); `net` = `gross` - `refunded`. Minor units of `currency`. */
  sales: { bookings: number; seats: number; gross: number; refunded: number; net: number; currency: string };
}

/** The report from the counters evolve keeps: O(categories + sections), no scan. Pure. */
export function showReport(state: ShowState): ShowReport {
  const { tally, sales, def } = state;
  const prices = new Map(def.categories.map((c) => [c.id, c.price]));
  // fromEntries defines own keys, whatever the ids are (no prototype setter).
  const categories: ShowReport['categories'] = Object.fromEntries(
    tally.categories.map((id, c) => [id, { ...countsAt(tally.byCategory, c), price: prices.get(id) ?? 0 }]),
  );
  const sections: ShowReport['sections'] = Object.fromEntries(tally.sections.map((id, s) => [id, countsAt(tally.bySection, s)]));
  return {
    showId: def.id,
    version: state.version,
    seats: { ...state.counts },
    categories,
    sections,
    sales: {
      bookings: sales.bookings,
      seats: sales.seats,
      gross: sales.gross,
      refunded: sales.refunded,
      net: sales.gross - sales.refunded,
      currency: def.categories[0]?.currency ?? 'XXX',
    },
  };
}
