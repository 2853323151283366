import type { SeatDelta } from '../../actors/deltas.ts';
import type { ShowReport } from '../../actors/report.ts';
import type { SeatHistory } from '../../actors/seat-history.ts';
import type { BookingView, CancellationRule, Category, Layout, Offers, PriceLine, PriceQuote, ShowLimits } from '../../actors/types.ts';
import type { ShowSummary, ShowView } from '../../actors/views.ts';
import type { BookingGranted, BookingPage, CompactSeatMap, HoldGranted } from '../../service/seat-service.ts';

/**
 * Domain values → proto messages (plain objects with the proto's snake_case fields).
 * Pure; absent optional values are left out so the client sees them as unset.
 */

const opt = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

export function categoryMessage(c: Category) {
  return { id: c.id, price: c.price, currency: c.currency, ...opt('name', c.name) };
}

function layoutMessage(layout: Layout) {
  return {
    sections: layout.sections.map((s) => ({
      id: s.id,
      ...opt('name', s.name),
      rows: s.rows.map((r) => ({ label: r.label, seats: r.seats, category: r.category, ...opt('first_number', r.firstNumber) })),
    })),
    ...opt('unqualified_section', layout.unqualifiedSection ?? undefined),
  };
}

function limitsMessage(l: ShowLimits) {
  return {
    max_seats_per_hold: l.maxSeatsPerHold,
    hold_ttl_seconds: l.holdTtlSeconds,
    max_hold_seconds: l.maxHoldSeconds,
    ...(l.maxSeatsPerCustomer ? { max_seats_per_customer: l.maxSeatsPerCustomer } : {}),
  };
}

function offersMessage(o: Offers) {
  return {
    nth_ticket: o.nthTicket ? { none: false, n: o.nthTicket.n, percent_off: o.nthTicket.percentOff } : { none: true },
    afternoon: o.afternoon
      ? { none: false, from: o.afternoon.from, to: o.afternoon.to, percent_off: o.afternoon.percentOff }
      : { none: true },
  };
}

export function showMessage(v: ShowView) {
  return {
    id: v.id,
    title: v.title,
    city: v.city,
    venue: v.venue,
    starts_at: v.startsAt,
    status: v.status,
    ...opt('cancel_reason', v.cancelReason),
    version: v.version,
    layout_version: v.layoutVersion,
    capacity: v.capacity,
    counts: v.counts,
    categories: v.categories.map(categoryMessage),
    layout: layoutMessage(v.layout),
    limits: limitsMessage(v.limits),
    offers: offersMessage(v.offers),
    // SeatView already has the Seat message's field names: no per-seat copy for big maps.
    seats: v.seats,
    ...(v.cancellationPolicy ? { cancellation_policy: policyMessage(v.cancellationPolicy) } : {}),
  };
}

export function policyMessage(rules: readonly CancellationRule[]) {
  return { rules: rules.map((r) => ({ hours_before_start: r.hoursBeforeStart, refund_percent: r.refundPercent })) };
}

export function bookingPageMessage(p: BookingPage) {
  return { bookings: p.bookings.map(bookingMessage), ...opt('next_cursor', p.nextCursor) };
}

export function summaryMessage(s: ShowSummary) {
  return {
    id: s.id,
    title: s.title,
    city: s.city,
    venue: s.venue,
    starts_at: s.startsAt,
    status: s.status,
    version: s.version,
    capacity: s.capacity,
    available: s.available,
  };
}

function lineMessage(l: PriceLine) {
  return { seat: l.seat, category: l.category, base_price: l.basePrice, discounts: l.discounts, price: l.price };
}

function quoteMessage(q: PriceQuote) {
  return { currency: q.currency, lines: q.lines.map(lineMessage), total: q.total };
}

export function holdMessage(h: HoldGranted) {
  return {
    hold_id: h.holdId,
    hold_token: h.holdToken,
    seats: h.seats,
    expires_at: h.expiresAt,
    price: quoteMessage(h.price),
    ...opt('customer_id', h.customerId),
  };
}

export function bookingMessage(b: BookingView | BookingGranted) {
  return {
    booking_id: b.bookingId,
    hold_id: b.holdId,
    show_id: b.showId,
    status: b.status,
    seats: b.seats,
    currency: b.currency,
    lines: b.lines.map(lineMessage),
    total: b.total,
    confirmed_at: b.confirmedAt,
    ...opt('payment_ref', b.paymentRef),
    ...opt('customer_id', b.customerId),
    ...opt('cancelled_at', b.cancelledAt),
    ...opt('cancel_reason', b.cancelReason),
    ...opt('refund_due', b.refundDue),
    ...opt('booking_token', 'bookingToken' in b ? b.bookingToken : undefined),
    ...opt('refund_percent', b.refundPercent),
  };
}

export function seatMapMessage(m: CompactSeatMap) {
  return {
    show_id: m.showId,
    version: m.version,
    layout_version: m.layoutVersion,
    show_status: m.status,
    labels: m.labels,
    category_of: m.categoryOf,
    categories: m.categories.map(categoryMessage),
    statuses: m.seats,
    rows: m.rows,
  };
}

export function deltaMessage(d: SeatDelta) {
  return {
    show_id: d.showId,
    from_version: d.fromVersion,
    version: d.version,
    layout_version: d.layoutVersion,
    show_status: d.showStatus,
    changes: d.changes.map(([id, status]) => ({ id, status })),
  };
}

export function reportMessage(r: ShowReport) {
  return { show_id: r.showId, version: r.version, seats: r.seats, categories: r.categories, sections: r.sections, sales: r.sales };
}

export function seatHistoryMessage(h: SeatHistory) {
  return {
    seat_id: h.seatId,
    complete: h.complete,
    ...opt('since', h.since),
    history: h.history.map((e) => ({
      version: e.version,
      ...opt('at', e.at),
      status: e.status,
      ...opt('hold_id', e.holdId),
      ...opt('booking_id', e.bookingId),
      ...opt('customer_id', e.customerId),
      ...opt('reason', e.reason),
    })),
  };
}
