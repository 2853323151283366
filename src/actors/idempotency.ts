import { createHash } from 'node:crypto';
import { quoteSeats } from './pricing.ts';
import type { ShowState } from './show-state.ts';
import { labelOf, seatIndexOf } from './seat-map.ts';
import type {
  CommandReply,
  KeyedCommand,
  KeyedCommandType,
  KeyedEventFields,
  KeyedRecord,
  KeyedResult,
  ShowCommand,
  ShowDefinition,
  ShowEvent,
} from './types.ts';
import { bookingView } from './views.ts';

/**
 * Idempotency keys at the show, kept by time rather than by count: a key is remembered until
 * a retry of its command can no longer matter, and it costs a few ids and numbers, not the
 * reply. Forgetting is driven by event times only, so the owner, its replicas and recovery
 * forget the same keys at the same versions.
 */

/**
 * Most keys one show keeps, whatever their time: a backstop so a flood of keyed commands
 * (the cluster's routing keys one per command) cannot grow a show without bound. At about
 * 300 bytes a key (10-seat holds) that is some 30 MB; past it the oldest key goes first.
 */
export const IDEMPOTENCY_KEYS_MAX = 100_000;

/** Past a show's longest hold, how long a retry still gets its first answer by default. */
export const DEFAULT_IDEMPOTENCY_MARGIN_SECONDS = 15 * 60;

/** How long a key is kept: the configured seconds, or the show's longest hold plus the margin. */
export function retentionMs(def: ShowDefinition, configuredSeconds: number | undefined): number {
  const seconds =
    configuredSeconds !== undefined && configuredSeconds > 0
      ? configuredSeconds
      : def.limits.maxHoldSeconds + DEFAULT_IDEMPOTENCY_MARGIN_SECONDS;
  return seconds * 1000;
}

/** JSON with object keys sorted, so two doors building one request in another order agree. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

const KEYED_COMMANDS: Record<KeyedCommandType, true> = {
  hold: true,
  extendHold: true,
  release: true,
  confirm: true,
  cancelBookings: true,
  cancelShow: true,
  changeShow: true,
  blockSeats: true,
  unblockSeats: true,
};

/** Whether a command is one that takes (and records) an idempotency key. */
export function isKeyedCommand(cmd: ShowCommand): cmd is KeyedCommand {
  return Object.hasOwn(KEYED_COMMANDS, cmd.type);
}

/** What identifies a request under its key: the command without the key and the ids the service generated for it. */
export function requestFingerprint(cmd: KeyedCommand): string {
  const { idem: _idem, idemKeepSeconds: _keep, ...rest } = cmd;
  const body: Record<string, unknown> = rest;
  if (cmd.type === 'hold') delete body.holdId;
  if (cmd.type === 'confirm') delete body.bookingId;
  return createHash('sha256').update(canonical(body)).digest('base64url').slice(0, 22);
}

/**
 * The compact form of a reply (sharing no array with it: the reply goes to the caller); null
 * for commands that carry no key. `withRequest`: the record has a fingerprint, so what the
 * request names (a cancel's booking ids) is read from the retry rather than kept.
 */
export function keyedResultOf(reply: CommandReply, withRequest = false): KeyedResult | null {
  switch (reply.type) {
    case 'hold': {
      const h = reply.hold;
      return {
        type: 'hold',
        holdId: h.holdId,
        seats: h.seats.slice(),
        expiresAt: Date.parse(h.expiresAt),
        currency: h.price.currency,
        total: h.price.total,
        ...(h.customerId !== undefined ? { customerId: h.customerId } : {}),
      };
    }
    case 'extendHold':
      return { type: 'extendHold', holdId: reply.holdId, expiresAt: Date.parse(reply.expiresAt) };
    case 'release':
      return { type: 'release', holdId: reply.holdId };
    case 'confirm':
      return { type: 'confirm', bookingId: reply.booking.bookingId };
    case 'cancelBookings':
      return withRequest ? { type: 'cancelBookings' } : { type: 'cancelBookings', bookingIds: reply.bookings.map((b) => b.bookingId) };
    case 'cancelShow':
      return { type: 'cancelShow', releasedHolds: reply.releasedHolds.slice() };
    case 'changeShow':
      return {
        type: 'changeShow',
        version: reply.version,
        releasedHolds: reply.releasedHolds.slice(),
        cancelledBookings: reply.cancelledBookings.map((b) => b.bookingId),
      };
    case 'blockSeats':
    case 'unblockSeats':
      return { type: reply.type, seats: reply.seats.slice() };
    case 'createShow':
    case 'expireHolds':
    case 'forgetEnded':
      return null;
    default: {
      const unreachable: never = reply;
      throw new Error(`unknown reply ${(unreachable as CommandReply).type}`);
    }
  }
}

/**
 * Marks the last event of a keyed command with its key and record. The last event, because a
 * command is decided whole: once it is in the log, every event of the command is.
 */
export function stampKeyed(events: ShowEvent[], cmd: KeyedCommand, reply: CommandReply, now: number, keepMs: number): void {
  const last = events.at(-1) as (ShowEvent & KeyedEventFields) | undefined;
  const result = keyedResultOf(reply, true);
  if (cmd.idem === undefined || !last || !result) return;
  last.idem = cmd.idem;
  last.keyed = { fp: requestFingerprint(cmd), until: now + keepMs, result };
}

/**
 * The first answer again, from the compact result, the state and the retry `cmd` (a command
 * of the result's type whose fingerprint matched); null when the state no longer has what it
 * needs (the command is then decided afresh, as it would have been).
 */
export function replyFromKeyed(state: ShowState, r: KeyedResult, cmd: KeyedCommand): CommandReply | null {
  switch (r.type) {
    case 'hold': {
      // The live hold's locked quote; once it ended, lines are derived again and, if prices
      // changed since, only the total first quoted is given.
      const seats = r.seats.map((l) => seatIndexOf(state.seatMap, l));
      const locked = state.holds.get(r.holdId)?.quote;
      const quote = locked ?? (seats.every((s) => s !== undefined) ? quoteSeats(state.def, state.seatMap, seats as number[]) : null);
      const price =
        quote && quote.total === r.total && quote.currency === r.currency ? quote : { currency: r.currency, lines: [], total: r.total };
      return {
        type: 'hold',
        hold: {
          holdId: r.holdId,
          seats: r.seats.slice(),
          expiresAt: new Date(r.expiresAt).toISOString(),
          price,
          ...(r.customerId !== undefined ? { customerId: r.customerId } : {}),
        },
      };
    }
    case 'extendHold':
      return { type: 'extendHold', holdId: r.holdId, expiresAt: new Date(r.expiresAt).toISOString() };
    case 'release':
      return { type: 'release', holdId: r.holdId };
    case 'confirm': {
      const b = state.bookings.get(r.bookingId);
      if (!b) return null;
      // The first answer was the confirmation, whatever happened to the booking since.
      const { cancelledAt: _at, cancelReason: _reason, ...confirmed } = b;
      return { type: 'confirm', booking: bookingView(state, { ...confirmed, status: 'confirmed' }) };
    }
    case 'cancelBookings':
    case 'changeShow': {
      const ids =
        r.type === 'changeShow'
          ? r.cancelledBookings
          : (r.bookingIds ?? (cmd.type === 'cancelBookings' ? [...new Set(cmd.bookingIds)] : null));
      if (!ids) return null;
      const views = [];
      for (const id of ids) {
        const b = state.bookings.get(id);
        if (!b) return null;
        views.push(bookingView(state, b));
      }
      return r.type === 'cancelBookings'
        ? { type: 'cancelBookings', bookings: views }
        : { type: 'changeShow', version: r.version, releasedHolds: r.releasedHolds.slice(), cancelledBookings: views };
    }
    case 'cancelShow': {
      const refunds = [...state.bookings.values()].filter((b) => b.cancelReason === 'show_cancelled').map((b) => bookingView(state, b));
      return { type: 'cancelShow', refunds, releasedHolds: r.releasedHolds.slice() };
    }
    case 'blockSeats':
    case 'unblockSeats':
      return { type: r.type, seats: r.seats.slice() };
    default: {
      const unreachable: never = r;
      throw new Error(`unknown keyed result ${(unreachable as KeyedResult).type}`);
    }
  }
}

/** The time an event happened, when it says (old logs lack it on some event types). */
export function eventTime(e: ShowEvent): number | undefined {
  switch (e.type) {
    case 'SeatsHeld':
      return e.createdAt;
    case 'ShowCreated':
    case 'BookingConfirmed':
    case 'BookingCancelled':
    case 'ShowCancelled':
    case 'ShowChanged':
    case 'HoldExtended':
    case 'HoldReleased':
    case 'HoldExpired':
    case 'SeatsBlocked':
    case 'SeatsUnblocked':
    case 'EndedForgotten':
      return e.at;
    default: {
      const unreachable: never = e;
      throw new Error(`unknown event ${(unreachable as ShowEvent).type}`);
    }
  }
}

/**
 * The record of an event logged before records existed (key only): rebuilt from the event as
 * the show then did, with no fingerprint (any body matches), kept the default time.
 */
export function legacyRecord(state: ShowState, e: ShowEvent, at: number | undefined): KeyedRecord | null {
  // Old HoldReleased events carry no time: such a key goes with the one recorded before it.
  const base = at ?? (e.type === 'HoldExtended' ? e.expiresAt : undefined);
  let until = base !== undefined ? base + retentionMs(state.def, undefined) : undefined;
  if (until === undefined) for (const r of state.idempotent.values()) until = r.until;
  if (until === undefined) return null;
  let result: KeyedResult;
  switch (e.type) {
    case 'SeatsHeld': {
      const quote = quoteSeats(state.def, state.seatMap, e.seats);
      result = {
        type: 'hold',
        holdId: e.holdId,
        seats: e.seats.map((s) => labelOf(state.seatMap, s)),
        expiresAt: e.expiresAt,
        currency: quote.currency,
        total: quote.total,
        ...(e.customerId !== undefined ? { customerId: e.customerId } : {}),
      };
      break;
    }
    case 'HoldExtended':
      result = { type: 'extendHold', holdId: e.holdId, expiresAt: e.expiresAt };
      break;
    case 'HoldReleased':
      result = { type: 'release', holdId: e.holdId };
      break;
    case 'BookingConfirmed':
      result = { type: 'confirm', bookingId: e.bookingId };
      break;
    default:
      return null;
  }
  return { fp: '', until, result };
}

/**
 * Forgets every key whose time is up at event time `at`, whatever order the keys came in
 * (a short-lived routing key behind a long-lived client key goes at its own time).
 */
export function forgetKeys(state: ShowState, at: number): void {
  if ((state.keyExpiry.peek() ?? Infinity) > at) return;
  for (const key of state.keyExpiry.popDue(at)) state.idempotent.delete(key);
}

/** Records a key as the newest, dropping the oldest past IDEMPOTENCY_KEYS_MAX. */
export function rememberRecord(state: ShowState, key: string, record: KeyedRecord): void {
  state.idempotent.delete(key);
  state.idempotent.set(key, record);
  state.keyExpiry.set(record.until, key);
  if (state.idempotent.size > IDEMPOTENCY_KEYS_MAX) {
    const oldest = state.idempotent.keys().next().value as string;
    state.idempotent.delete(oldest);
    state.keyExpiry.delete(oldest);
  }
}
