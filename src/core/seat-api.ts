import type { HoldReply, BookingView, ShowDefinition } from '../actors/types.ts';
import type { ShowView } from '../actors/views.ts';

// The plain request and reply shapes of the seat API (src/service/seat-service.ts), shared by
// the service, the gateways and the client library (which imports nothing of the service).

export interface HoldRequest {
  seats?: string[] | undefined;
  count?: number | undefined;
  category?: string | undefined;
  ttlSeconds?: number | undefined;
  customerId?: string | undefined;
}

/** What a confirm may add: a payment reference, and the total the customer was shown (PRICE_CHANGED if it differs). */
export interface ConfirmOptions {
  paymentRef?: string | undefined;
  expectedTotal?: number | undefined;
}

export interface HoldGranted extends HoldReply {
  /** Secret proof of ownership; confirm, extend and release need it. */
  holdToken: string;
}

/** A confirmed booking as its customer first receives it: with the token that lets them read and cancel it. */
export interface BookingGranted extends BookingView {
  /** Secret proof of the booking (the Booking-Token header); derived, never stored. */
  bookingToken: string;
}

/** The admin's filters for a show's bookings; `cursor` is the `nextCursor` of the page before. */
export interface BookingListRequest {
  customerId?: string | undefined;
  status?: 'confirmed' | 'cancelled' | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/** One page of a show's bookings in bookingId order; `nextCursor` absent on the last page. */
export interface BookingPage {
  bookings: BookingView[];
  nextCursor?: string;
}

/** Bookings per page when the caller names no limit, and the most it may name. */
export const DEFAULT_BOOKING_PAGE = 100;
export const MAX_BOOKING_PAGE = 500;

/** A show definition as a client sends it: limits and offers may be partial or absent. */
export interface CreateShowInput extends Omit<ShowDefinition, 'limits' | 'offers'> {
  limits?: Partial<ShowDefinition['limits']>;
  offers?: Partial<ShowDefinition['offers']>;
  blockedSeats?: string[];
}

/** A compact seat map: labels once per layout version, one status character per seat. */
export interface CompactSeatMap {
  showId: string;
  version: number;
  layoutVersion: number;
  status: ShowView['status'];
  /** Seat labels in index order. */
  labels: string[];
  /** Category id per seat, as an index into `categories`. */
  categoryOf: number[];
  categories: ShowDefinition['categories'];
  /** One character per seat, in label order: a available, h held, b booked, x blocked. */
  seats: string;
  rows: Array<{ section: string; label: string; start: number; count: number }>;
}
