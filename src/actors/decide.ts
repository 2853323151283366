import { ErrorCode, SeatError } from '../errors.ts';
import { findBestAvailable } from './best-available.ts';
import { cancelledRecord } from './booking-records.ts';
import { seatsOfCustomer } from './customer-seats.ts';
import { isKeyedCommand, replyFromKeyed, requestFingerprint, retentionMs, stampKeyed } from './idempotency.ts';
import { applyChanges, checkDefinition, checkUnqualifiedSection } from './definition.ts';
import { quoteSeats } from './pricing.ts';
import { labelOf, seatIndexOf, seatMapOf, unqualifiedSectionOf, withSeatIdRule } from './seat-map.ts';
import type { HoldRecord, ShowState } from './show-state.ts';
import {
  SEAT_AVAILABLE,
  SEAT_BLOCKED,
  type BookingCancelReason,
  type CommandReply,
  type KeyedCommand,
  type ShowChanges,
  type ShowCommand,
  type ShowEvent,
} from './types.ts';
import { bookingView, holdReply } from './views.ts';
import { forgetEvent } from './forgetting.ts';
import { customerRefundPercent, refundAmount } from './cancellation-policy.ts';

export type Decision = { ok: true; events: ShowEvent[]; reply: CommandReply } | { ok: false; error: SeatError };

/** Settings of the node that the decision depends on; recorded in the events, so replicas need not share them. */
export interface DecideOptions {
  /** How long a show remembers an idempotency key; absent or 0: the show's longest hold plus a margin. */
  idempotencyRetentionSeconds?: number;
}

const ok = (events: ShowEvent[], reply: CommandReply): Decision => ({ ok: true, events, reply });
const fail = (code: ErrorCode, message: string, details?: ConstructorParameters<typeof SeatError>[2]): Decision => ({
  ok: false,
  error: new SeatError(code, message, details),
});

/** Parses seat labels to indices; any unknown or repeated label fails the whole command. */
function resolveSeats(state: ShowState, labels: readonly string[]): number[] | Decision {
  const seen = new Set<string>();
  const unknown: string[] = [];
  const repeated: string[] = [];
  const seats: number[] = [];
  for (const label of labels) {
    if (seen.has(label)) {
      repeated.push(label);
      continue;
    }
    seen.add(label);
    const seat = seatIndexOf(state.seatMap, label);
    if (seat === undefined) unknown.push(label);
    else seats.push(seat);
  }
  if (unknown.length) return fail(ErrorCode.INVALID_ARGUMENT, `unknown seats: ${unknown.join(', ')}`, { seats: unknown });
  if (repeated.length) return fail(ErrorCode.INVALID_ARGUMENT, `seats listed twice: ${repeated.join(', ')}`, { seats: repeated });
  return seats;
}

function missingHold(state: ShowState, holdId: string): Decision {
  const ended = state.endedHolds.get(holdId);
  if (ended?.reason === 'expired') return fail(ErrorCode.HOLD_EXPIRED, 'the hold has expired; its seats are back on sale');
  if (ended) return fail(ErrorCode.HOLD_NOT_FOUND, `the hold has ended (${ended.reason})`);
  return fail(ErrorCode.HOLD_NOT_FOUND, 'no such hold');
}

/**
 * Decides what a command does to a show: the events to append and the reply, or an error
 * that changes nothing. Pure: no I/O, no clock (time arrives as `now`, ids in the command).
 */
export function decide(state: ShowState | null, cmd: ShowCommand, now: number, opts: DecideOptions = {}): Decision {
  if (cmd.type === 'createShow') return decideCreate(state, cmd, now);
  if (!state) return fail(ErrorCode.SHOW_NOT_FOUND, 'no such show');
  const keyed = isKeyedCommand(cmd) && cmd.idem !== undefined ? cmd : null;
  if (keyed) {
    const earlier = state.idempotent.get(keyed.idem as string);
    if (earlier) {
      if (earlier.result.type !== keyed.type || (earlier.fp !== '' && earlier.fp !== requestFingerprint(keyed)))
        return fail(ErrorCode.IDEMPOTENCY_MISMATCH, 'this idempotency key was used for another request');
      const again = replyFromKeyed(state, earlier.result, keyed);
      if (again) return ok([], again);
    }
  }
  const decision = decideCommand(state, cmd, now);
  if (decision.ok && keyed) {
    if (decision.events.length === 0) {
      const carrier = keyCarrier(state, keyed, now);
      if (carrier) decision.events.push(carrier);
    }
    const keep = keyed.idemKeepSeconds;
    const keepMs = keep !== undefined && keep > 0 ? keep * 1000 : retentionMs(state.def, opts.idempotencyRetentionSeconds);
    stampKeyed(decision.events, keyed, decision.reply, now, keepMs);
  }
  return decision;
}

/**
 * An event that changes nothing, to carry the key of a keyed command that changed nothing,
 * when a retry decided afresh later could answer or do otherwise: an extension asking for
 * less than is left (later it would extend), blocking seats already blocked or unblocking
 * free ones (later they might not be). A release, confirm or cancel of what already ended
 * answers the same however late, so it logs nothing.
 */
function keyCarrier(state: ShowState, cmd: KeyedCommand, now: number): ShowEvent | null {
  switch (cmd.type) {
    case 'extendHold': {
      const hold = state.holds.get(cmd.holdId);
      return hold ? { type: 'HoldExtended', holdId: hold.holdId, expiresAt: hold.expiresAt, at: now } : null;
    }
    case 'blockSeats':
      return { type: 'SeatsBlocked', seats: [], at: now };
    case 'unblockSeats':
      return { type: 'SeatsUnblocked', seats: [], at: now };
    default:
      return null;
  }
}

function decideCommand(state: ShowState, cmd: Exclude<ShowCommand, { type: 'createShow' }>, now: number): Decision {
  switch (cmd.type) {
    case 'hold':
      return decideHold(state, cmd, now);
    case 'extendHold':
      return decideExtend(state, cmd, now);
    case 'release':
      return decideRelease(state, cmd, now);
    case 'confirm':
      return decideConfirm(state, cmd, now);
    case 'cancelBookings':
      return decideCancelBookings(state, cmd, now);
    case 'cancelShow':
      return decideCancelShow(state, cmd, now);
    case 'changeShow':
      return decideChange(state, cmd, now);
    case 'blockSeats':
    case 'unblockSeats':
      return decideBlocking(state, cmd, now);
    case 'expireHolds': {
      const events: ShowEvent[] = [];
      for (const holdId of new Set(cmd.holdIds)) {
        const hold = state.holds.get(holdId);
        if (hold && hold.expiresAt <= now) events.push({ type: 'HoldExpired', holdId, seats: hold.seats, at: now });
      }
      return ok(events, { type: 'expireHolds', holdIds: events.map((e) => (e as { holdId: string }).holdId) });
    }
    case 'forgetEnded': {
      const event = forgetEvent(state, cmd.bookingIds, cmd.holdIds, now);
      const forgotten = event?.type === 'EndedForgotten' ? event : { bookingIds: [], holdIds: [] };
      return ok(event ? [event] : [], { type: 'forgetEnded', bookingIds: forgotten.bookingIds, holdIds: forgotten.holdIds });
    }
    default: {
      const unreachable: never = cmd;
      return fail(ErrorCode.INVALID_ARGUMENT, `unknown command ${(unreachable as ShowCommand).type}`);
    }
  }
}

function decideCreate(state: ShowState | null, cmd: Extract<ShowCommand, { type: 'createShow' }>, now: number): Decision {
  // The show writes down its seat-id rule now, so every later layout keeps the same ids.
  const def = { ...cmd.def, layout: withSeatIdRule(cmd.def.layout) };
  if (state) {
    // The same definition again is a retry of a create that already happened.
    const same = JSON.stringify(state.def);
    if (same === JSON.stringify(def) || same === JSON.stringify(cmd.def)) return ok([], { type: 'createShow', version: state.version });
    return fail(ErrorCode.SHOW_EXISTS, `show ${cmd.def.id} already exists`);
  }
  const problem = checkDefinition(def) ?? checkUnqualifiedSection(def.layout);
  if (problem) return { ok: false, error: problem };
  const seatMap = seatMapOf(def);
  const blocked: number[] = [];
  const unknown: string[] = [];
  for (const label of new Set(cmd.blockedSeats ?? [])) {
    const seat = seatIndexOf(seatMap, label);
    if (seat === undefined) unknown.push(label);
    else blocked.push(seat);
  }
  if (unknown.length) return fail(ErrorCode.INVALID_ARGUMENT, `unknown blocked seats: ${unknown.join(', ')}`, { seats: unknown });
  return ok([{ type: 'ShowCreated', def, blocked, at: now }], { type: 'createShow', version: 1 });
}

function checkOpen(state: ShowState): Decision | null {
  return state.status === 'cancelled' ? fail(ErrorCode.SHOW_CANCELLED, 'the show is cancelled') : null;
}

function decideHold(state: ShowState, cmd: Extract<ShowCommand, { type: 'hold' }>, now: number): Decision {
  const closed = checkOpen(state);
  if (closed) return closed;
  const { limits } = state.def;
  const ttlSeconds = cmd.ttlSeconds ?? limits.holdTtlSeconds;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > limits.maxHoldSeconds)
    return fail(ErrorCode.INVALID_ARGUMENT, `ttlSeconds must be an integer from 1 to ${limits.maxHoldSeconds}`);
  if (state.holds.has(cmd.holdId) || state.endedHolds.has(cmd.holdId) || state.bookingByHold.has(cmd.holdId))
    return fail(ErrorCode.INVALID_ARGUMENT, 'hold id already used');
  const hasSeats = cmd.seats !== undefined;
  const hasCount = cmd.count !== undefined;
  if (hasSeats === hasCount) return fail(ErrorCode.INVALID_ARGUMENT, 'give either seats or count, not both');
  const wanted = hasSeats ? (cmd.seats as string[]).length : (cmd.count as number);
  if (!Number.isInteger(wanted) || wanted < 1) return fail(ErrorCode.INVALID_ARGUMENT, 'a hold needs at least one seat');
  if (wanted > limits.maxSeatsPerHold)
    return fail(ErrorCode.HOLD_LIMIT_EXCEEDED, `at most ${limits.maxSeatsPerHold} seats per hold for this show`);
  const overCap = checkCustomerCap(state, cmd.customerId, wanted);
  if (overCap) return overCap;

  let categoryIndex: number | null = null;
  if (!hasSeats && cmd.category !== undefined) {
    categoryIndex = state.seatMap.categories.indexOf(cmd.category);
    if (categoryIndex < 0) return fail(ErrorCode.INVALID_ARGUMENT, `unknown category "${cmd.category}"`);
  }
  const resolved = hasSeats ? resolveSeats(state, cmd.seats as string[]) : null;
  if (resolved && !Array.isArray(resolved)) return resolved;
  const pick = (status: Uint8Array): number[] | Decision => {
    if (resolved) {
      const taken = resolved.filter((s) => status[s] !== SEAT_AVAILABLE).map((s) => labelOf(state.seatMap, s));
      return taken.length ? fail(ErrorCode.SEAT_UNAVAILABLE, `seats not available: ${taken.join(', ')}`, { seats: taken }) : resolved;
    }
    return (
      findBestAvailable(state.seatMap, status, wanted, categoryIndex) ??
      fail(ErrorCode.SEAT_UNAVAILABLE, `no ${wanted} seats available together`, { seats: [] })
    );
  };
  let picked = pick(state.seatStatus);
  // Holds past their deadline are over, whether or not their expiry was decided yet: their
  // seats are for sale. Looked for only when the seats seem taken (the shell expires due
  // holds before each batch, so this is rarely more than one pass over the holds).
  const expired: ShowEvent[] = [];
  if (!Array.isArray(picked) && state.counts.held > 0) {
    for (const hold of state.holds.values())
      if (hold.expiresAt <= now) expired.push({ type: 'HoldExpired', holdId: hold.holdId, seats: hold.seats, at: now });
    if (expired.length) {
      const status = state.seatStatus.slice();
      for (const e of expired) for (const seat of (e as { seats: number[] }).seats) status[seat] = SEAT_AVAILABLE;
      picked = pick(status);
    }
  }
  if (!Array.isArray(picked)) return picked;
  // Layout order, as the quote lines are: the booking's seats and its lines then agree.
  const seats = [...picked].sort((a, b) => a - b);
  const event: ShowEvent = {
    type: 'SeatsHeld',
    holdId: cmd.holdId,
    seats,
    createdAt: now,
    expiresAt: now + ttlSeconds * 1000,
    ...(cmd.customerId !== undefined ? { customerId: cmd.customerId } : {}),
  };
  const reply = holdReply(state, {
    holdId: cmd.holdId,
    seats,
    createdAt: now,
    expiresAt: event.expiresAt,
    ...(cmd.customerId !== undefined ? { customerId: cmd.customerId } : {}),
  });
  return ok([...expired, event], { type: 'hold', hold: reply });
}

/** The show's per-customer cap: held + booked seats of one customerId, counted in O(1). */
function checkCustomerCap(state: ShowState, customerId: string | undefined, wanted: number): Decision | null {
  const cap = state.def.limits.maxSeatsPerCustomer;
  if (cap === undefined || cap === null) return null;
  if (customerId === undefined)
    return fail(ErrorCode.CUSTOMER_REQUIRED, 'this show caps seats per customer: a hold must name its customerId');
  const has = seatsOfCustomer(state, customerId);
  if (has + wanted > cap)
    return fail(ErrorCode.HOLD_LIMIT_EXCEEDED, `at most ${cap} seats per customer for this show (${has} held or booked)`);
  return null;
}

function decideExtend(state: ShowState, cmd: Extract<ShowCommand, { type: 'extendHold' }>, now: number): Decision {
  const hold = state.holds.get(cmd.holdId);
  if (!hold) return missingHold(state, cmd.holdId);
  if (hold.expiresAt <= now) return fail(ErrorCode.HOLD_EXPIRED, 'the hold has expired');
  const { limits } = state.def;
  const ttlSeconds = cmd.ttlSeconds ?? limits.holdTtlSeconds;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > limits.maxHoldSeconds)
    return fail(ErrorCode.INVALID_ARGUMENT, `ttlSeconds must be an integer from 1 to ${limits.maxHoldSeconds}`);
  const wanted = now + ttlSeconds * 1000;
  // An extension never shortens a hold: asking for less than is left answers the current expiry.
  if (wanted <= hold.expiresAt)
    return ok([], { type: 'extendHold', holdId: cmd.holdId, expiresAt: new Date(hold.expiresAt).toISOString() });
  const expiresAt = Math.min(wanted, hold.createdAt + limits.maxHoldSeconds * 1000);
  if (expiresAt <= hold.expiresAt)
    return fail(ErrorCode.HOLD_LIMIT_EXCEEDED, `a hold may last at most ${limits.maxHoldSeconds} seconds in total`);
  return ok([{ type: 'HoldExtended', holdId: cmd.holdId, expiresAt, at: now }], {
    type: 'extendHold',
    holdId: cmd.holdId,
    expiresAt: new Date(expiresAt).toISOString(),
  });
}

function decideRelease(state: ShowState, cmd: Extract<ShowCommand, { type: 'release' }>, now: number): Decision {
  if (!state.holds.has(cmd.holdId)) {
    const bookingId = state.bookingByHold.get(cmd.holdId);
    if (bookingId !== undefined)
      return fail(ErrorCode.HOLD_ALREADY_CONFIRMED, `the hold became booking ${bookingId}; cancel the booking instead`);
    // Released or expired already: the seats are free, which is what the caller wants.
    if (state.endedHolds.has(cmd.holdId)) return ok([], { type: 'release', holdId: cmd.holdId });
    return fail(ErrorCode.HOLD_NOT_FOUND, 'no such hold');
  }
  return ok(
    [
      {
        type: 'HoldReleased',
        holdId: cmd.holdId,
        seats: (state.holds.get(cmd.holdId) as HoldRecord).seats,
        reason: 'released',
        at: now,
      },
    ],
    { type: 'release', holdId: cmd.holdId },
  );
}

function decideConfirm(state: ShowState, cmd: Extract<ShowCommand, { type: 'confirm' }>, now: number): Decision {
  const hold = state.holds.get(cmd.holdId);
  if (!hold) {
    const bookingId = state.bookingByHold.get(cmd.holdId);
    const booking = bookingId !== undefined ? state.bookings.get(bookingId) : undefined;
    // Confirming a hold twice answers with the booking it already became.
    if (booking) return ok([], { type: 'confirm', booking: bookingView(state, booking) });
    return missingHold(state, cmd.holdId);
  }
  const closed = checkOpen(state);
  if (closed) return closed;
  if (hold.expiresAt <= now) return fail(ErrorCode.HOLD_EXPIRED, 'the hold has expired; its seats are back on sale');
  if (state.bookings.has(cmd.bookingId)) return fail(ErrorCode.INVALID_ARGUMENT, 'booking id already used');
  const quote = hold.quote ?? quoteSeats(state.def, state.seatMap, hold.seats);
  if (cmd.expectedTotal !== undefined && cmd.expectedTotal !== quote.total)
    return fail(ErrorCode.PRICE_CHANGED, `the hold's total is ${quote.total} ${quote.currency}, not ${cmd.expectedTotal}`, {
      total: quote.total,
      currency: quote.currency,
    });
  const event: ShowEvent = {
    type: 'BookingConfirmed',
    bookingId: cmd.bookingId,
    holdId: cmd.holdId,
    seats: hold.seats,
    quote,
    at: now,
    ...(cmd.paymentRef !== undefined ? { paymentRef: cmd.paymentRef } : {}),
    ...(hold.customerId !== undefined ? { customerId: hold.customerId } : {}),
  };
  const booking = bookingView(state, {
    bookingId: cmd.bookingId,
    holdId: cmd.holdId,
    seats: hold.seats.map((s) => labelOf(state.seatMap, s)),
    quote,
    confirmedAt: now,
    status: 'confirmed',
    ...(cmd.paymentRef !== undefined ? { paymentRef: cmd.paymentRef } : {}),
    ...(hold.customerId !== undefined ? { customerId: hold.customerId } : {}),
  });
  return ok([event], { type: 'confirm', booking });
}

function cancelled(
  state: ShowState,
  bookingId: string,
  reason: BookingCancelReason,
  now: number,
  refund?: { refundDue: number; refundPercent: number },
) {
  return bookingView(state, cancelledRecord(state.bookings.get(bookingId)!, { at: now, reason, ...refund }));
}

/**
 * Cancels bookings. By an admin: each refunds `refundPercent` (default 100) of its total. By
 * the booking's customer (`byCustomer`, one booking; the service has checked its token): the
 * show's cancellation policy decides the percent from the hours left before the start, and
 * none applying is CANCELLATION_CLOSED. A booking already cancelled is answered as it is.
 */
function decideCancelBookings(state: ShowState, cmd: Extract<ShowCommand, { type: 'cancelBookings' }>, now: number): Decision {
  const unknown = cmd.bookingIds.filter((id) => !state.bookings.has(id));
  if (unknown.length) return fail(ErrorCode.BOOKING_NOT_FOUND, `no such bookings: ${unknown.join(', ')}`);
  const ids = [...new Set(cmd.bookingIds)];
  if (cmd.byCustomer && ids.length !== 1) return fail(ErrorCode.INVALID_ARGUMENT, 'a customer cancels one booking at a time');
  const live = ids.some((id) => state.bookings.get(id)!.status === 'confirmed');
  let percent = cmd.refundPercent ?? 100;
  if (!Number.isInteger(percent) || percent < 0 || percent > 100)
    return fail(ErrorCode.INVALID_ARGUMENT, 'refundPercent must be a whole number from 0 to 100');
  if (cmd.byCustomer && live) {
    const byPolicy = customerRefundPercent(state.def, now);
    if (byPolicy === null)
      return fail(ErrorCode.CANCELLATION_CLOSED, 'the cancellation policy allows no cancellation this close to the start');
    percent = byPolicy;
  }
  const events: ShowEvent[] = [];
  const views = ids.map((id) => {
    const b = state.bookings.get(id)!;
    if (b.status === 'cancelled') return bookingView(state, b);
    const refund = { refundDue: refundAmount(b.quote.total, percent), refundPercent: percent };
    events.push({ type: 'BookingCancelled', bookingId: id, reason: 'cancelled', at: now, ...refund });
    return cancelled(state, id, 'cancelled', now, refund);
  });
  return ok(events, { type: 'cancelBookings', bookings: views });
}

function decideCancelShow(state: ShowState, cmd: Extract<ShowCommand, { type: 'cancelShow' }>, now: number): Decision {
  if (state.status === 'cancelled') {
    const refunds = [...state.bookings.values()].filter((b) => b.cancelReason === 'show_cancelled').map((b) => bookingView(state, b));
    return ok([], { type: 'cancelShow', refunds, releasedHolds: [] });
  }
  const events: ShowEvent[] = [];
  const releasedHolds = [...state.holds.keys()];
  for (const hold of state.holds.values())
    events.push({ type: 'HoldReleased', holdId: hold.holdId, seats: hold.seats, reason: 'show_cancelled', at: now });
  const refunds = [];
  for (const b of state.bookings.values()) {
    if (b.status !== 'confirmed') continue;
    events.push({ type: 'BookingCancelled', bookingId: b.bookingId, reason: 'show_cancelled', at: now });
    refunds.push(cancelled(state, b.bookingId, 'show_cancelled', now));
  }
  events.push({ type: 'ShowCancelled', reason: cmd.reason ?? 'cancelled by the organiser', at: now });
  return ok(events, { type: 'cancelShow', refunds, releasedHolds });
}

function decideChange(state: ShowState, cmd: Extract<ShowCommand, { type: 'changeShow' }>, now: number): Decision {
  const closed = checkOpen(state);
  if (closed) return closed;
  if (cmd.changes.limits?.maxSeatsPerHold !== undefined && cmd.changes.limits.maxSeatsPerHold < 1)
    return fail(ErrorCode.INVALID_ARGUMENT, 'maxSeatsPerHold must be at least 1');
  const changes = keepSeatIds(state, cmd.changes);
  if (changes instanceof SeatError) return { ok: false, error: changes };
  const def = applyChanges(state.def, changes);
  const problem = checkDefinition(def);
  if (problem) return { ok: false, error: problem };
  const next = seatMapOf(def);
  const gone = (label: string) => seatIndexOf(next, label) === undefined;
  const events: ShowEvent[] = [];
  const releasedHolds: string[] = [];
  for (const hold of state.holds.values()) {
    if (hold.seats.some((s) => gone(labelOf(state.seatMap, s)))) {
      events.push({ type: 'HoldReleased', holdId: hold.holdId, seats: hold.seats, reason: 'layout_changed', at: now });
      releasedHolds.push(hold.holdId);
    }
  }
  const cancelledBookings = [];
  for (const b of state.bookings.values()) {
    if (b.status === 'confirmed' && b.seats.some(gone)) {
      events.push({ type: 'BookingCancelled', bookingId: b.bookingId, reason: 'layout_changed', at: now });
      cancelledBookings.push(cancelled(state, b.bookingId, 'layout_changed', now));
    }
  }
  events.push({ type: 'ShowChanged', def, at: now });
  return ok(events, { type: 'changeShow', version: state.version + events.length, releasedHolds, cancelledBookings });
}

/**
 * A new layout keeps the show's seat-id rule, so a seat that is still there keeps its id
 * and whatever holds or bookings it has. A layout that names another rule is refused.
 */
function keepSeatIds(state: ShowState, changes: ShowChanges): ShowChanges | SeatError {
  if (changes.layout === undefined) return changes;
  const kept = unqualifiedSectionOf(state.def.layout);
  if (changes.layout.unqualifiedSection !== undefined && changes.layout.unqualifiedSection !== kept)
    return new SeatError(ErrorCode.INVALID_ARGUMENT, `seat ids never change: layout.unqualifiedSection stays ${JSON.stringify(kept)}`, {
      fields: [{ path: 'layout.unqualifiedSection', message: `stays ${JSON.stringify(kept)}` }],
    });
  return { ...changes, layout: withSeatIdRule(changes.layout, kept) };
}

function decideBlocking(state: ShowState, cmd: Extract<ShowCommand, { type: 'blockSeats' | 'unblockSeats' }>, now: number): Decision {
  const resolved = resolveSeats(state, cmd.seats);
  if (!Array.isArray(resolved)) return resolved;
  if (cmd.type === 'blockSeats') {
    const busy = resolved.filter((s) => state.seatStatus[s] !== SEAT_AVAILABLE && state.seatStatus[s] !== SEAT_BLOCKED);
    if (busy.length) {
      const labels = busy.map((s) => labelOf(state.seatMap, s));
      return fail(ErrorCode.SEAT_UNAVAILABLE, `seats are held or booked: ${labels.join(', ')}`, { seats: labels });
    }
    const seats = resolved.filter((s) => state.seatStatus[s] === SEAT_AVAILABLE);
    return ok(seats.length ? [{ type: 'SeatsBlocked', seats, at: now }] : [], { type: 'blockSeats', seats: cmd.seats });
  }
  const seats = resolved.filter((s) => state.seatStatus[s] === SEAT_BLOCKED);
  return ok(seats.length ? [{ type: 'SeatsUnblocked', seats, at: now }] : [], { type: 'unblockSeats', seats: cmd.seats });
}
