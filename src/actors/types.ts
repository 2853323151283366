/**
 * The show actor's vocabulary: the definition of a show, its commands, its events and
 * the replies the core computes. Commands and events are discriminated unions on `type`.
 */

export interface Category {
  id: string;
  name?: string;
  /** Price in integer minor units of `currency` (paise, cents). */
  price: number;
  currency: string;
}

export interface RowDefinition {
  label: string;
  /** Number of seats; seats are numbered from `firstNumber` (default 1). */
  seats: number;
  category: string;
  firstNumber?: number;
}

export interface SectionDefinition {
  id: string;
  name?: string;
  rows: RowDefinition[];
}

export interface Layout {
  sections: SectionDefinition[];
  /**
   * The section whose seat ids are `<row>-<number>`; every other section's are
   * `<section>:<row>-<number>`. null: every section is prefixed. Set when the show is
   * created and kept by every change, so seat ids never change (seat-map.ts seatLabel).
   * Absent only in layouts written before shows remembered it: read by the old rule.
   */
  unqualifiedSection?: string | null;
}

export interface ShowLimits {
  maxSeatsPerHold: number;
  holdTtlSeconds: number;
  /** Longest a hold may live in total, counting every extension from its creation. */
  maxHoldSeconds: number;
  /**
   * Most seats one customerId may have held and booked in this show at once. Absent or null:
   * no cap. When set, every hold must name its customerId.
   */
  maxSeatsPerCustomer?: number | null;
}

export interface Offers {
  /** The n-th ticket of one booking (in seat order) gets `percentOff`. null: no such offer. */
  nthTicket: { n: number; percentOff: number } | null;
  /** Shows starting inside [from, to) local time ("HH:MM") get `percentOff`. null: no such offer. */
  afternoon: { from: string; to: string; percentOff: number } | null;
}

/** One rule of a cancellation policy: cancelling at least `hoursBeforeStart` hours before the start refunds `refundPercent` (0-100, whole). */
export interface CancellationRule {
  hoursBeforeStart: number;
  refundPercent: number;
}

/** A show as created or changed by an admin, with every default filled in. */
export interface ShowDefinition {
  id: string;
  title: string;
  city: string;
  venue: string;
  /** ISO 8601 with the venue's UTC offset, e.g. 2026-12-01T19:30:00+05:30. */
  startsAt: string;
  categories: Category[];
  layout: Layout;
  limits: ShowLimits;
  offers: Offers;
  /**
   * What customers get back when they cancel their own booking (see cancellation-policy.ts).
   * Absent: the default, a full refund until the start.
   */
  cancellationPolicy?: CancellationRule[];
}

export type ShowStatus = 'scheduled' | 'cancelled';
export type SeatStatus = 'available' | 'held' | 'booked' | 'blocked';

/** Status codes in the typed array; also the index into SEAT_STATUSES. */
export const SEAT_AVAILABLE = 0;
export const SEAT_HELD = 1;
export const SEAT_BOOKED = 2;
export const SEAT_BLOCKED = 3;
export const SEAT_STATUSES: readonly SeatStatus[] = ['available', 'held', 'booked', 'blocked'];
/** One character per seat in the compact map, by the same index: a available, h held, b booked, x blocked. */
export const STATUS_CHARS = 'ahbx';

export interface PriceLine {
  seat: string;
  category: string;
  basePrice: number;
  discounts: Array<{ offer: 'nthTicket' | 'afternoon'; amount: number }>;
  price: number;
}

export interface PriceQuote {
  currency: string;
  lines: PriceLine[];
  total: number;
}

export type HoldEndReason = 'released' | 'expired' | 'confirmed' | 'show_cancelled' | 'layout_changed';
export type BookingCancelReason = 'cancelled' | 'show_cancelled' | 'layout_changed';

// ---------------------------------------------------------------- commands

/** Changes an admin may make to a scheduled show; absent fields stay as they are. */
export interface ShowChanges {
  title?: string;
  city?: string;
  venue?: string;
  startsAt?: string;
  categories?: Category[];
  layout?: Layout;
  limits?: Partial<ShowLimits>;
  offers?: Partial<Offers>;
  cancellationPolicy?: CancellationRule[];
}

/**
 * What a command that records its idempotency key carries. `idem` is the key (opaque: it may
 * carry a caller prefix); `idemKeepSeconds` overrides how long the show keeps it, e.g. short
 * for keys a router makes up per attempt, and is not part of the request's fingerprint.
 * Every command that takes a key records it (the last event of its decision carries the
 * record, see idempotency.ts); a command the show cannot record does not take one.
 */
export interface IdempotencyKey {
  idem?: string;
  idemKeepSeconds?: number;
}

/** A command whose key the show records: a retry under the key gets the first answer. */
export type Idempotent<C extends { type: string }> = C & IdempotencyKey;

export type ShowCommand =
  | { type: 'createShow'; def: ShowDefinition; blockedSeats?: string[] }
  | Idempotent<{
      type: 'hold';
      holdId: string;
      seats?: string[] | undefined;
      count?: number | undefined;
      category?: string | undefined;
      ttlSeconds?: number | undefined;
      customerId?: string | undefined;
    }>
  | Idempotent<{ type: 'extendHold'; holdId: string; ttlSeconds?: number }>
  | Idempotent<{ type: 'release'; holdId: string }>
  | Idempotent<{ type: 'confirm'; holdId: string; bookingId: string; paymentRef?: string; expectedTotal?: number }>
  /**
   * Admin: cancels with `refundPercent` (default 100) of each booking's total. `byCustomer`:
   * the booking's own customer cancels (one booking, the show's cancellation policy decides the refund).
   */
  | Idempotent<{ type: 'cancelBookings'; bookingIds: string[]; refundPercent?: number; byCustomer?: boolean }>
  | Idempotent<{ type: 'cancelShow'; reason?: string }>
  | Idempotent<{ type: 'changeShow'; changes: ShowChanges }>
  | Idempotent<{ type: 'blockSeats'; seats: string[] }>
  | Idempotent<{ type: 'unblockSeats'; seats: string[] }>
  | { type: 'expireHolds'; holdIds: string[] }
  /** The host's housekeeping: drop long-ended holds and long-cancelled (archived) bookings. */
  | { type: 'forgetEnded'; bookingIds: string[]; holdIds: string[] };

export type ShowCommandType = ShowCommand['type'];

/** The commands that take an idempotency key: exactly those with a KeyedResult (checked below). */
export type KeyedCommandType = KeyedResult['type'];
export type KeyedCommand = Extract<ShowCommand, { type: KeyedCommandType }>;

type TakesKey<C> = C extends { type: infer T } ? ('idem' extends keyof C ? T : never) : never;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;
/** Compile-time: a command takes a key if and only if the show records its result (fails to type-check otherwise). */
export type EveryKeyRecorded = Holds<Same<TakesKey<ShowCommand>, KeyedCommandType>>;

// ---------------------------------------------------------------- events

/**
 * What a show remembers of a keyed command, carried by the command's last event so every
 * copy of the show (owner, replica, recovery) remembers the same key the same way.
 */
export interface KeyedRecord {
  /** Fingerprint of the request (without generated ids): another body under the key is refused. */
  fp: string;
  /** Event time after which the key may be forgotten (ms since epoch). */
  until: number;
  result: KeyedResult;
}

/**
 * The compact result of a keyed command: ids and the few facts needed to answer a retry the
 * same way again; the rest (booking lines, refunds) is read back from state, and what the
 * request itself names is read from the retry (its fingerprint proves it names the same), so
 * a record stays small however big the answer: a cancel of 100,000 bookings keeps no id.
 */
export type KeyedResult =
  | { type: 'hold'; holdId: string; seats: string[]; expiresAt: number; currency: string; total: number; customerId?: string }
  | { type: 'extendHold'; holdId: string; expiresAt: number }
  | { type: 'release'; holdId: string }
  | { type: 'confirm'; bookingId: string }
  /** `bookingIds` absent: the ids the request names (kept only for records without a fingerprint). */
  | { type: 'cancelBookings'; bookingIds?: string[] }
  | { type: 'cancelShow'; releasedHolds: string[] }
  | { type: 'changeShow'; version: number; releasedHolds: string[]; cancelledBookings: string[] }
  | { type: 'blockSeats'; seats: string[] }
  | { type: 'unblockSeats'; seats: string[] };

/** What the last event of a keyed command carries: the key (opaque) and its record; `idem` alone is an event from before records. */
export interface KeyedEventFields {
  idem?: string;
  keyed?: KeyedRecord;
}

/** An event that can close a keyed command, and so carry its key's record. */
export type Keyed<E extends { type: string }> = E & KeyedEventFields;

/** Events without a time of their own carry `at` (absent in old logs) so a show's keys age by event time. */
export type ShowEvent =
  | { type: 'ShowCreated'; def: ShowDefinition; blocked: number[]; at: number }
  | Keyed<{
      type: 'SeatsHeld';
      holdId: string;
      seats: number[];
      createdAt: number;
      expiresAt: number;
      customerId?: string;
    }>
  | Keyed<{ type: 'HoldExtended'; holdId: string; expiresAt: number; at?: number }>
  | Keyed<{ type: 'HoldReleased'; holdId: string; seats: number[]; reason: HoldEndReason; at?: number }>
  | { type: 'HoldExpired'; holdId: string; seats: number[]; at?: number }
  | Keyed<{
      type: 'BookingConfirmed';
      bookingId: string;
      holdId: string;
      seats: number[];
      quote: PriceQuote;
      paymentRef?: string;
      customerId?: string;
      at: number;
    }>
  /** `refundDue`: minor units owed back (absent in older logs: the whole total); `refundPercent` it came from. */
  | Keyed<{
      type: 'BookingCancelled';
      bookingId: string;
      reason: BookingCancelReason;
      at: number;
      refundDue?: number;
      refundPercent?: number;
    }>
  | Keyed<{ type: 'SeatsBlocked'; seats: number[]; at?: number }>
  | Keyed<{ type: 'SeatsUnblocked'; seats: number[]; at?: number }>
  | Keyed<{ type: 'ShowCancelled'; reason: string; at: number }>
  | Keyed<{ type: 'ShowChanged'; def: ShowDefinition; at: number }>
  /** Records the show no longer keeps in memory: cancelled bookings (read from the archive after) and ended holds. */
  | { type: 'EndedForgotten'; bookingIds: string[]; holdIds: string[]; at: number };

export type ShowEventType = ShowEvent['type'];

// ---------------------------------------------------------------- replies

export interface HoldReply {
  holdId: string;
  seats: string[];
  expiresAt: string;
  price: PriceQuote;
  customerId?: string;
}

export interface BookingView {
  bookingId: string;
  holdId: string;
  showId: string;
  status: 'confirmed' | 'cancelled';
  seats: string[];
  currency: string;
  lines: PriceLine[];
  total: number;
  paymentRef?: string;
  customerId?: string;
  confirmedAt: string;
  cancelledAt?: string;
  cancelReason?: BookingCancelReason;
  /** Amount due back to the customer once cancelled (minor units). */
  refundDue?: number;
  /** The percent of `total` that `refundDue` is, when the cancellation recorded it. */
  refundPercent?: number;
}

export type CommandReply =
  | { type: 'createShow'; version: number }
  | { type: 'hold'; hold: HoldReply }
  | { type: 'extendHold'; holdId: string; expiresAt: string }
  | { type: 'release'; holdId: string }
  | { type: 'confirm'; booking: BookingView }
  | { type: 'cancelBookings'; bookings: BookingView[] }
  | { type: 'cancelShow'; refunds: BookingView[]; releasedHolds: string[] }
  | { type: 'changeShow'; version: number; releasedHolds: string[]; cancelledBookings: BookingView[] }
  | { type: 'blockSeats'; seats: string[] }
  | { type: 'unblockSeats'; seats: string[] }
  | { type: 'expireHolds'; holdIds: string[] }
  | { type: 'forgetEnded'; bookingIds: string[]; holdIds: string[] };

/** Narrows the reply type from the command type. */
export type ReplyFor<T extends ShowCommandType> = Extract<CommandReply, { type: T }>;
