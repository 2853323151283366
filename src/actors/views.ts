import type { BookingRecord, HoldRecord, ShowState } from './show-state.ts';
import { quoteSeats } from './pricing.ts';
import { policyOf } from './cancellation-policy.ts';
import { forEachSeatLabel, labelOf, withSeatIdRule } from './seat-map.ts';
import { SEAT_STATUSES, type BookingView, type HoldReply, type SeatStatus, type ShowDefinition, type ShowStatus } from './types.ts';

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
  return {
    bookingId: b.bookingId,
    holdId: b.holdId,
    showId: state.def.id,
    status: b.status,
    seats: b.seats,
    currency: b.quote.currency,
    lines: b.quote.lines,
    total: b.quote.total,
    confirmedAt: new Date(b.confirmedAt).toISOString(),
    ...(b.paymentRef !== undefined ? { paymentRef: b.paymentRef } : {}),
    ...(b.customerId !== undefined ? { customerId: b.customerId } : {}),
    ...(b.status === 'cancelled'
      ? {
          cancelledAt: new Date(b.cancelledAt ?? 0).toISOString(),
          ...(b.cancelReason !== undefined ? { cancelReason: b.cancelReason } : {}),
          refundDue: b.refundDue ?? b.quote.total,
          ...(b.refundPercent !== undefined ? { refundPercent: b.refundPercent } : {}),
        }
      : {}),
  };
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

/** One character per seat in seat-index order: a available, h held, b booked, x blocked. */
export const STATUS_CHARS = 'ahbx';

export function compactStatuses(state: ShowState): string {
  const { seatStatus } = state;
  const chars = new Array<string>(seatStatus.length);
  for (let i = 0; i < seatStatus.length; i++) chars[i] = STATUS_CHARS[seatStatus[i]];
  return chars.join('');
}
