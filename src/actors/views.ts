import type { BookingRecord, HoldRecord, ShowState } from './show-state.ts';
import { quoteSeats } from './pricing.ts';
import { policyOf } from './cancellation-policy.ts';
import { forEachSeatLabel, labelOf, withSeatIdRule } from './seat-map.ts';
import {
  SEAT_STATUSES,
  STATUS_CHARS,
  type BookingView,
  type HoldReply,
  type SeatStatus,
  type ShowDefinition,
  type ShowStatus,
} from './types.ts';

/** Read-only projections of a show's state into what callers see. Pure. */

export function holdReply(state: ShowState, hold: HoldRecord): HoldReply {
  return {
    holdId: hold.holdId,
    seats: hold.seats.map((s) => labelOf(state.seatMap, s)),
    expiresAt: new Date(hold.expiresAt).toISOString(),
    price: hold.quote ?? quoteSeats(state.def, state.seatMap, hold.seats),
    ...(hold.customerId !== undefined ? { customerId: hold.customerId } : {}),
  };
}

export function bookingView(state: ShowState, b: BookingRecord): BookingView {
  // Built field by field, not with conditional spreads: a stadium's cancellation answers
  // 100,000 of these in one turn of the owner's event loop, and the spreads cost several times more.
  const view: BookingView = {
    bookingId: b.bookingId,
    holdId: b.holdId,
    showId: state.def.id,
    status: b.status,
    seats: b.seats,
    currency: b.quote.currency,
    lines: b.quote.lines,
    total: b.quote.total,
    confirmedAt: isoTime(b.confirmedAt),
  };
  if (b.paymentRef !== undefined) view.paymentRef = b.paymentRef;
  if (b.customerId !== undefined) view.customerId = b.customerId;
  if (b.status === 'cancelled') {
    view.cancelledAt = isoTime(b.cancelledAt ?? 0);
    if (b.cancelReason !== undefined) view.cancelReason = b.cancelReason;
    view.refundDue = b.refundDue ?? b.quote.total;
    if (b.refundPercent !== undefined) view.refundPercent = b.refundPercent;
  }
  return view;
}

/** The largest epoch ms a Date holds. */
const MAX_DATE_MS = 8.64e15;
let cachedSecond = Number.NaN;
let cachedPrefix = '';
/**
 * ISO 8601 of an epoch ms, as Date#toISOString writes it. The text up to the seconds is
 * remembered: bookings listed together mostly share their second, and toISOString is most of
 * the cost of 100,000 booking views.
 */
function isoTime(time: number): string {
  const ms = Math.trunc(time); // as Date does
  if (!(Math.abs(ms) <= MAX_DATE_MS)) return new Date(ms).toISOString(); // throws RangeError, as it would
  const second = Math.floor(ms / 1000) * 1000;
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second).toISOString().slice(0, -4); // up to and with the '.'
    cachedSecond = second;
  }
  const millis = ms - second;
  return `${cachedPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

/** What the catalog lists: a show without its seats. */
export interface ShowSummary {
  id: string;
  title: string;
  city: string;
  venue: string;
  startsAt: string;
  status: ShowStatus;
  version: number;
  capacity: number;
  available: number;
}

export function showSummary(state: ShowState): ShowSummary {
  const d = state.def;
  return {
    id: d.id,
    title: d.title,
    city: d.city,
    venue: d.venue,
    startsAt: d.startsAt,
    status: state.status,
    version: state.version,
    capacity: state.seatStatus.length,
    available: state.counts.available,
  };
}

export interface SeatView {
  id: string;
  category: string;
  price: number;
  status: SeatStatus;
}

export interface ShowView extends Omit<ShowDefinition, 'layout'> {
  status: ShowStatus;
  cancelReason?: string;
  version: number;
  layoutVersion: number;
  layout: ShowDefinition['layout'];
  capacity: number;
  counts: ShowState['counts'];
  seats: SeatView[];
}

export function showView(state: ShowState): ShowView {
  const { seatMap, seatStatus, def } = state;
  const prices = seatMap.categories.map((id) => def.categories.find((c) => c.id === id)?.price ?? 0);
  const seats = new Array<SeatView>(seatStatus.length);
  forEachSeatLabel(seatMap, 0, seatStatus.length, (id, i) => {
    const cat = seatMap.categoryOf[i];
    seats[i] = { id, category: seatMap.categories[cat], price: prices[cat], status: SEAT_STATUSES[seatStatus[i]] };
  });
  return { ...showHead(state), seats };
}

/** The full view without its seats (they come last, so a serializer can append them in slices). */
export function showHead(state: ShowState): Omit<ShowView, 'seats'> {
  return {
    ...state.def,
    // Says which section's seat ids carry no prefix, also for shows created before it was written down.
    layout: withSeatIdRule(state.def.layout),
    // The policy in force, the default spelled out: a client shows the refund before asking.
    cancellationPolicy: policyOf(state.def).map((r) => ({ ...r })),
    status: state.status,
    ...(state.cancelReason !== undefined ? { cancelReason: state.cancelReason } : {}),
    version: state.version,
    layoutVersion: state.layoutVersion,
    capacity: state.seatStatus.length,
    counts: { ...state.counts },
  };
}

export { STATUS_CHARS };

export function compactStatuses(state: ShowState): string {
  const { seatStatus } = state;
  const chars = new Array<string>(seatStatus.length);
  for (let i = 0; i < seatStatus.length; i++) chars[i] = STATUS_CHARS[seatStatus[i]];
  return chars.join('');
}
