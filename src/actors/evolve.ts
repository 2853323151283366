import { eventTime, forgetKeys, legacyRecord, rememberRecord } from './idempotency.ts';
import { ENDED_HOLDS_KEPT, initialState, rememberBounded, type ShowState } from './show-state.ts';
import { cancelledRecord } from './booking-records.ts';
import { bookingCancelled, bookingConfirmed, holdEnded, holdStarted } from './customer-seats.ts';
import { quoteSeats } from './pricing.ts';
import { moveSeat, saleCancelled, saleConfirmed, saleForgotten, seatTally } from './report-tally.ts';
import { forEachSeatLabel, labelOf, seatIndexOf, seatMapOf } from './seat-map.ts';
import { SEAT_AVAILABLE, SEAT_BLOCKED, SEAT_BOOKED, SEAT_HELD, type HoldEndReason, type ShowDefinition, type ShowEvent } from './types.ts';

const COUNT_KEYS = ['available', 'held', 'booked', 'blocked'] as const;

function setSeats(state: ShowState, seats: readonly number[], to: number): void {
  const counts = state.counts;
  for (const seat of seats) {
    const from = state.seatStatus[seat];
    counts[COUNT_KEYS[from]]--;
    counts[COUNT_KEYS[to]]++;
    moveSeat(state.tally, state.seatMap, seat, from, to);
    state.seatStatus[seat] = to;
  }
}

function endHold(state: ShowState, holdId: string, reason: HoldEndReason, at: number | undefined, bookingId?: string): void {
  const hold = state.holds.get(holdId);
  if (!hold) return;
  state.holds.delete(holdId);
  holdEnded(state, hold);
  if (reason === 'confirmed' && bookingId) state.bookingByHold.set(holdId, bookingId);
  else {
    setSeats(state, hold.seats, SEAT_AVAILABLE);
    rememberBounded(state.endedHolds, holdId, at !== undefined ? { reason, at } : { reason }, ENDED_HOLDS_KEPT);
  }
}

/** Forgets keys whose time is up, then records the event's own key, if it carries one. */
function rememberKey(state: ShowState, event: ShowEvent): void {
  const at = eventTime(event);
  if (at !== undefined) forgetKeys(state, at);
  if (!('idem' in event) || event.idem === undefined) return;
  const record = event.keyed ?? legacyRecord(state, event, at);
  if (record) rememberRecord(state, event.idem, record);
}

/**
 * Applies one event. The only way a show's state changes; mutates `state` in place for
 * speed (the shell throws a state away when its batch fails to commit). Hold and booking
 * records are replaced, never changed: a snapshot, a reply or a batch handed to someone
 * asynchronous may still hold the old record, and must keep seeing the state it was given.
 * `ShowCreated` needs no prior state, so `state` may be null only for it.
 */
export function evolve(state: ShowState | null, event: ShowEvent): ShowState {
  if (event.type === 'ShowCreated') {
    const created = initialState(event.def);
    setSeats(created, event.blocked, SEAT_BLOCKED);
    created.version = (state?.version ?? 0) + 1;
    return created;
  }
  if (!state) throw new Error(`event ${event.type} before ShowCreated`);
  state.version++;
  switch (event.type) {
    case 'SeatsHeld': {
      const hold = {
        holdId: event.holdId,
        seats: event.seats,
        createdAt: event.createdAt,
        expiresAt: event.expiresAt,
        ...(event.customerId !== undefined ? { customerId: event.customerId } : {}),
        // Derived from the definition of this moment, as the hold's reply was: not logged twice.
        quote: quoteSeats(state.def, state.seatMap, event.seats),
      };
      state.holds.set(event.holdId, hold);
      holdStarted(state, hold);
      setSeats(state, event.seats, SEAT_HELD);
      break;
    }
    case 'HoldExtended': {
      const hold = state.holds.get(event.holdId);
      if (hold) state.holds.set(event.holdId, { ...hold, expiresAt: event.expiresAt });
      break;
    }
    case 'HoldReleased':
      endHold(state, event.holdId, event.reason, event.at);
      break;
    case 'HoldExpired':
      endHold(state, event.holdId, 'expired', event.at);
      break;
    case 'BookingConfirmed': {
      const hold = state.holds.get(event.holdId);
      endHold(state, event.holdId, 'confirmed', event.at, event.bookingId);
      setSeats(state, hold ? hold.seats : event.seats, SEAT_BOOKED);
      const booking = {
        bookingId: event.bookingId,
        holdId: event.holdId,
        seats: event.seats.map((s) => labelOf(state.seatMap, s)),
        quote: event.quote,
        confirmedAt: event.at,
        status: 'confirmed' as const,
        ...(event.paymentRef !== undefined ? { paymentRef: event.paymentRef } : {}),
        ...(event.customerId !== undefined ? { customerId: event.customerId } : {}),
      };
      state.bookings.set(event.bookingId, booking);
      bookingConfirmed(state, booking);
      saleConfirmed(state.sales, booking);
      break;
    }
    case 'BookingCancelled': {
      const booking = state.bookings.get(event.bookingId);
      if (booking && booking.status === 'confirmed') {
        const cancelled = cancelledRecord(booking, event);
        state.bookings.set(event.bookingId, cancelled);
        state.cancelledOrder.set(event.bookingId, event.at);
        bookingCancelled(state, booking);
        saleCancelled(state.sales, cancelled);
        const seats: number[] = [];
        for (const label of booking.seats) {
          const seat = seatIndexOf(state.seatMap, label);
          if (seat !== undefined && state.seatStatus[seat] === SEAT_BOOKED) seats.push(seat);
        }
        setSeats(state, seats, SEAT_AVAILABLE);
      }
      break;
    }
    case 'SeatsBlocked':
      setSeats(state, event.seats, SEAT_BLOCKED);
      break;
    case 'SeatsUnblocked':
      setSeats(state, event.seats, SEAT_AVAILABLE);
      break;
    case 'ShowCancelled':
      state.status = 'cancelled';
      state.cancelReason = event.reason;
      break;
    case 'ShowChanged':
      applyDefinitionChange(state, event.def);
      break;
    case 'EndedForgotten':
      forgetEnded(state, event.bookingIds, event.holdIds);
      break;
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${(unreachable as ShowEvent).type}`);
    }
  }
  rememberKey(state, event);
  return state;
}

/** Drops cancelled bookings and ended holds; anything still live is left alone. */
function forgetEnded(state: ShowState, bookingIds: readonly string[], holdIds: readonly string[]): void {
  for (const id of bookingIds) {
    const booking = state.bookings.get(id);
    if (booking?.status !== 'cancelled') continue;
    state.bookings.delete(id);
    state.cancelledOrder.delete(id);
    // The report's totals stay: the booking's amounts move into what snapshots keep.
    state.forgottenSales = saleForgotten(state.forgottenSales, booking);
    if (state.bookingByHold.get(booking.holdId) === id) state.bookingByHold.delete(booking.holdId);
  }
  for (const id of holdIds) state.endedHolds.delete(id);
}

/**
 * Moves every surviving seat's status to the new layout's indices. Holds and bookings on
 * seats that disappear were already ended by the events decided before this one.
 */
function applyDefinitionChange(state: ShowState, def: ShowDefinition): void {
  const layoutChanged = JSON.stringify(def.layout) !== JSON.stringify(state.def.layout);
  const categoriesChanged = JSON.stringify(def.categories) !== JSON.stringify(state.def.categories);
  state.def = def;
  if (!layoutChanged && !categoriesChanged) return;
  const old = state.seatMap;
  const seatMap = seatMapOf(def);
  const seatStatus = new Uint8Array(seatMap.capacity);
  forEachSeatLabel(old, 0, old.capacity, (label, i) => {
    const next = seatIndexOf(seatMap, label);
    if (next !== undefined) seatStatus[next] = state.seatStatus[i];
  });
  for (const [holdId, hold] of state.holds)
    state.holds.set(holdId, { ...hold, seats: hold.seats.map((s) => seatIndexOf(seatMap, labelOf(old, s)) as number) });
  state.seatMap = seatMap;
  state.seatStatus = seatStatus;
  const counts = { available: 0, held: 0, booked: 0, blocked: 0 };
  for (let i = 0; i < seatStatus.length; i++) counts[COUNT_KEYS[seatStatus[i]]]++;
  state.counts = counts;
  state.tally = seatTally(seatMap, seatStatus);
  if (layoutChanged) state.layoutVersion++;
}

/** Folds a sequence of events, starting from `state` (null for a show not yet created). */
export function evolveAll(state: ShowState | null, events: readonly ShowEvent[]): ShowState | null {
  let s = state;
  for (const e of events) s = evolve(s, e);
  return s;
}
