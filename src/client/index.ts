/**
 * A typed client for the seat inventory's HTTP API and live seat maps (package entry
 * `seat-inventory-cluster/client`). Works in Node 20+ and browsers: `fetch`, `crypto` and
 * WebSocket from the platform (the `ws` package in Node).
 *
 *   const seats = createClient({ url: 'http://localhost:8080' });
 *   const hold = await seats.hold('demo', { count: 2 });
 *   const booking = await seats.confirm('demo', hold.holdId, hold.holdToken, { expectedTotal: hold.price.total });
 *   const live = await seats.watch('demo', (map) => render(map.seats));
 *
 * Every write carries an Idempotency-Key, and 503/504/429 answers and network errors are
 * retried with the same key (backoff, Retry-After honoured), so a retried hold never holds
 * twice. Errors are `SeatClientError`s carrying the server's stable `code`.
 */
import type { BookingView } from '../actors/types.ts';
import type { ShowChanges } from '../actors/types.ts';
import type { ShowSummary, ShowView } from '../actors/views.ts';
import type { CatalogFilter } from '../core/ports.ts';
import type { ShowReport } from '../actors/report.ts';
import type { SeatHistory } from '../actors/seat-history.ts';
import type {
  BookingGranted,
  BookingListRequest,
  BookingPage,
  ConfirmOptions,
  CreateShowInput,
  HoldGranted,
  HoldRequest,
} from '../core/seat-api.ts';
import { call, type HttpOptions } from './http.ts';
import { watchShow, type WatchHandle, type WatchOptions } from './watch.ts';
import type { LiveSeatMap } from './seat-map-mirror.ts';

export { SeatClientError } from './errors.ts';
export { SeatMapMirror } from './seat-map-mirror.ts';
export type { LiveSeatMap } from './seat-map-mirror.ts';
export type { WatchHandle } from './watch.ts';
export type {
  BookingGranted,
  BookingListRequest,
  BookingPage,
  BookingView,
  CatalogFilter,
  ConfirmOptions,
  CreateShowInput,
  HoldGranted,
  HoldRequest,
  SeatHistory,
  ShowChanges,
  ShowReport,
  ShowSummary,
  ShowView,
};

export interface ClientOptions extends HttpOptions {
  /** Reconnect behaviour and socket factory for `watch`. */
  watch?: Omit<WatchOptions, 'url'>;
}

export interface SeatClient {
  createShow(body: CreateShowInput): Promise<ShowView>;
  listShows(filter?: CatalogFilter): Promise<ShowSummary[]>;
  getShow(showId: string): Promise<ShowView>;
  changeShow(showId: string, changes: ShowChanges): Promise<ShowView>;
  cancelShow(showId: string, reason?: string): Promise<{ refunds: BookingView[]; releasedHolds: string[] }>;
  hold(showId: string, req: HoldRequest & { ttlSeconds?: number; customerToken?: string }): Promise<HoldGranted>;
  extend(showId: string, holdId: string, holdToken: string, opts?: { ttlSeconds?: number }): Promise<{ holdId: string; expiresAt: string }>;
  /** The booking and its `bookingToken` (the customer's proof: keep it). */
  confirm(showId: string, holdId: string, holdToken: string, opts?: ConfirmOptions): Promise<BookingGranted>;
  release(showId: string, holdId: string, holdToken: string): Promise<void>;
  /** With the booking token confirm gave, the read is the customer's (a wrong token is FORBIDDEN). */
  getBooking(showId: string, bookingId: string, bookingToken?: string): Promise<BookingView>;
  /** The customer cancels under the show's cancellation policy (CANCELLATION_CLOSED when no rule applies). */
  cancelMyBooking(showId: string, bookingId: string, bookingToken: string): Promise<BookingView>;
  /** Cancels a booking as the admin (the client needs `adminToken`); `refundPercent` defaults to 100. */
  cancelBooking(showId: string, bookingId: string, opts?: { refundPercent?: number }): Promise<BookingView>;
  /** Admin: one page of the show's bookings (pass `nextCursor` back as `cursor`). */
  listBookings(showId: string, query?: BookingListRequest): Promise<BookingPage>;
  /** Admin: seats by status overall, per category and section, and sales. */
  getReport(showId: string): Promise<ShowReport>;
  /** Admin: one seat's status changes, oldest first. */
  getSeatHistory(showId: string, seatId: string): Promise<SeatHistory>;
  /** Live seat map: `onMap` gets the whole map after every change; reconnects and resumes by itself. */
  watch(showId: string, onMap: (map: LiveSeatMap) => void): Promise<WatchHandle>;
}

const seg = encodeURIComponent;

/** `?a=1&b=2` of the defined fields, or '' when none is. */
function queryString(fields: object): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}

export function createClient(opts: ClientOptions): SeatClient {
  const http = opts;
  return {
    createShow: (body) => call(http, { method: 'POST', path: '/v1/shows', body, admin: true, mutation: true }),
    listShows: async (filter = {}) =>
      (await call<{ shows: ShowSummary[] }>(http, { method: 'GET', path: `/v1/shows${queryString(filter)}` })).shows,
    getShow: (showId) => call(http, { method: 'GET', path: `/v1/shows/${seg(showId)}` }),
    changeShow: (showId, changes) =>
      call(http, { method: 'PATCH', path: `/v1/shows/${seg(showId)}`, body: changes, admin: true, mutation: true }),
    cancelShow: (showId, reason) =>
      call(http, {
        method: 'DELETE',
        path: `/v1/shows/${seg(showId)}`,
        ...(reason !== undefined ? { body: { reason } } : {}),
        admin: true,
        mutation: true,
      }),
    hold: (showId, { customerToken, ...req }) =>
      call(http, {
        method: 'POST',
        path: `/v1/shows/${seg(showId)}/holds`,
        body: req,
        mutation: true,
        ...(customerToken !== undefined ? { headers: { 'customer-token': customerToken } } : {}),
      }),
    extend: (showId, holdId, holdToken, o = {}) =>
      call(http, {
        method: 'POST',
        path: `/v1/shows/${seg(showId)}/holds/${seg(holdId)}/extend`,
        body: o,
        headers: { 'hold-token': holdToken },
        mutation: true,
      }),
    confirm: (showId, holdId, holdToken, o = {}) =>
      call(http, {
        method: 'POST',
        path: `/v1/shows/${seg(showId)}/holds/${seg(holdId)}/confirm`,
        body: o,
        headers: { 'hold-token': holdToken },
        mutation: true,
      }),
    release: async (showId, holdId, holdToken) => {
      await call(http, {
        method: 'DELETE',
        path: `/v1/shows/${seg(showId)}/holds/${seg(holdId)}`,
        headers: { 'hold-token': holdToken },
        mutation: true,
      });
    },
    getBooking: (showId, bookingId, bookingToken) =>
      call(http, {
        method: 'GET',
        path: `/v1/shows/${seg(showId)}/bookings/${seg(bookingId)}`,
        ...(bookingToken !== undefined ? { headers: { 'booking-token': bookingToken } } : {}),
      }),
    cancelMyBooking: (showId, bookingId, bookingToken) =>
      call(http, {
        method: 'POST',
        path: `/v1/shows/${seg(showId)}/bookings/${seg(bookingId)}/cancel`,
        headers: { 'booking-token': bookingToken },
        mutation: true,
      }),
    cancelBooking: (showId, bookingId, o = {}) =>
      call(http, {
        method: 'POST',
        path: `/v1/shows/${seg(showId)}/bookings/${seg(bookingId)}/cancel`,
        body: o,
        admin: true,
        mutation: true,
      }),
    listBookings: (showId, query = {}) =>
      call(http, { method: 'GET', path: `/v1/shows/${seg(showId)}/bookings${queryString(query)}`, admin: true }),
    getReport: (showId) => call(http, { method: 'GET', path: `/v1/shows/${seg(showId)}/report`, admin: true }),
    getSeatHistory: (showId, seatId) =>
      call(http, { method: 'GET', path: `/v1/shows/${seg(showId)}/seats/${seg(seatId)}/history`, admin: true }),
    watch: (showId, onMap) => watchShow({ ...opts.watch, url: opts.url }, showId, onMap),
  };
}
