import { labelOf, type SeatMap } from './seat-map.ts';
import type { PriceLine, PriceQuote, ShowDefinition } from './types.ts';

/** Minutes after local midnight of "HH:MM". */
export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h * 60 + m;
}

/**
 * The show's local start time in minutes after midnight. startsAt carries the venue's own
 * UTC offset, so its wall-clock part *is* local time; no time-zone database needed.
 */
export function localStartMinutes(startsAt: string): number {
  const match = /T(\d{2}):(\d{2})/.exec(startsAt);
  return match ? Number(match[1]) * 60 + Number(match[2]) : 0;
}

export function isAfternoonShow(def: ShowDefinition): boolean {
  const offer = def.offers.afternoon;
  if (!offer) return false;
  const start = localStartMinutes(def.startsAt);
  return start >= minutesOf(offer.from) && start < minutesOf(offer.to);
}

/** A discount in minor units: the exact percentage rounded to the nearest unit, halves up (0.5 → 1). */
export function percentOf(amount: number, percent: number): number {
  return Math.round((amount * percent) / 100);
}

interface PriceTable {
  prices: ReadonlyMap<string, number>;
  currency: string;
  afternoon: ShowDefinition['offers']['afternoon'] | null;
}

/**
 * Per definition: what every quote of it reads (a price per category, the currency, whether the
 * afternoon offer applies). Definitions are replaced, never changed in place, so the table of
 * one stays right; it is built on the first quote instead of on every hold.
 */
const priceTables = new WeakMap<ShowDefinition, PriceTable>();

function priceTableOf(def: ShowDefinition): PriceTable {
  let table = priceTables.get(def);
  if (!table) {
    table = {
      prices: new Map(def.categories.map((c) => [c.id, c.price])),
      currency: def.categories[0]?.currency ?? 'XXX',
      afternoon: isAfternoonShow(def) ? def.offers.afternoon : null,
    };
    priceTables.set(def, table);
  }
  return table;
}

/**
 * Prices seats with the show's offers, one line per seat in layout order (section, row,
 * number: the seat index order), whatever order they were asked for: the n-th ticket is the
 * n-th seat in that order, so a customer cannot pick which seat gets the discount. Offers
 * compound per line: the afternoon discount first, the n-th ticket discount on what remains;
 * each discount is rounded on its own line, and the total is the sum of the lines.
 */
export function quoteSeats(def: ShowDefinition, seatMap: SeatMap, seats: readonly number[]): PriceQuote {
  const { prices, currency, afternoon } = priceTableOf(def);
  const nth = def.offers.nthTicket;
  const lines: PriceLine[] = [];
  let total = 0;
  const ordered = [...seats].sort((a, b) => a - b);
  ordered.forEach((seat, position) => {
    const category = seatMap.categories[seatMap.categoryOf[seat]];
    const basePrice = prices.get(category) ?? 0;
    const discounts: PriceLine['discounts'] = [];
    let price = basePrice;
    if (afternoon) {
      const amount = percentOf(price, afternoon.percentOff);
      discounts.push({ offer: 'afternoon', amount });
      price -= amount;
    }
    if (nth && position + 1 === nth.n) {
      const amount = percentOf(price, nth.percentOff);
      discounts.push({ offer: 'nthTicket', amount });
      price -= amount;
    }
    total += price;
    lines.push({ seat: labelOf(seatMap, seat), category, basePrice, discounts, price });
  });
  return { currency, lines, total };
}
