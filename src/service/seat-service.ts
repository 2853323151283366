import type { SeatDelta } from '../actors/deltas.ts';
import type { ShowReport } from '../actors/report.ts';
import type { SeatHistory } from '../actors/seat-history.ts';
import type { BookingView, ShowChanges } from '../actors/types.ts';
import type { ShowSummary, ShowView } from '../actors/views.ts';
import type { CatalogFilter } from '../core/ports.ts';
import type {
  HoldRequest,
  ConfirmOptions,
  HoldGranted,
  BookingGranted,
  BookingListRequest,
  BookingPage,
  CreateShowInput,
  CompactSeatMap,
} from '../core/seat-api.ts';
import type { SerializedView, ViewForm } from './view-cache.ts';

/** Per-request context every front door passes along. */
export interface CallContext {
  /** The client's Idempotency-Key; a retry with the same key gets the first answer. */
  idempotencyKey?: string;
  /**
   * Who is calling, as the front door could establish it (customer id or token subject,
   * client address). Idempotency keys are scoped to it, so one caller's key never
   * replays another caller's answer.
   */
  caller?: string;
  /**
   * Epoch ms after which the caller no longer waits for the answer. A command still queued
   * at the show then is dropped before it is decided (DEADLINE_EXCEEDED), having done nothing.
   */
  deadline?: number;
  /**
   * How long the show keeps `idempotencyKey`, when shorter (or longer) than its default
   * retention: a router that makes a key up for its own retries sets it short, so its keys do
   * not crowd out the keys of real clients. Absent: the show's retention.
   */
  idempotencyKeepSeconds?: number;
}

export type {
  HoldRequest,
  ConfirmOptions,
  HoldGranted,
  BookingGranted,
  BookingListRequest,
  BookingPage,
  CreateShowInput,
  CompactSeatMap,
} from '../core/seat-api.ts';
export { DEFAULT_BOOKING_PAGE, MAX_BOOKING_PAGE } from '../core/seat-api.ts';

/**
 * What the front doors (HTTP, gRPC, WebSocket) call. In one process it is served by the
 * local actor host; in a cluster, by a router that forwards to each show's owner. Every
 * method fails with a SeatError carrying a stable code.
 */
export interface SeatService {
  createShow(input: CreateShowInput, ctx?: CallContext): Promise<ShowView>;
  getShow(showId: string): Promise<ShowView>;
  getSeatMap(showId: string): Promise<CompactSeatMap>;
  /**
   * The full (`getShow`) or compact (`getSeatMap`) view as JSON bytes, serialized once per
   * version and shared by every reader: callers must not modify the Buffer. Optional: a
   * service without it is read through getShow / getSeatMap and serialized per request.
   */
  readView?(showId: string, form: ViewForm): Promise<SerializedView>;
  listShows(filter: CatalogFilter): Promise<ShowSummary[]>;
  changeShow(showId: string, changes: ShowChanges, ctx?: CallContext): Promise<ShowView>;
  cancelShow(showId: string, reason: string | undefined, ctx?: CallContext): Promise<{ refunds: BookingView[]; releasedHolds: string[] }>;
  blockSeats(showId: string, seats: string[], ctx?: CallContext): Promise<void>;
  unblockSeats(showId: string, seats: string[], ctx?: CallContext): Promise<void>;

  hold(showId: string, req: HoldRequest, ctx?: CallContext): Promise<HoldGranted>;
  extendHold(
    showId: string,
    holdId: string,
    holdToken: string,
    ttlSeconds: number | undefined,
    ctx?: CallContext,
  ): Promise<{ holdId: string; expiresAt: string }>;
  confirm(showId: string, holdId: string, holdToken: string, opts: ConfirmOptions, ctx?: CallContext): Promise<BookingGranted>;
  release(showId: string, holdId: string, holdToken: string, ctx?: CallContext): Promise<void>;

  /** With `bookingToken` (the customer's read) a wrong token is FORBIDDEN; without, as before: the unguessable id suffices. */
  getBooking(showId: string, bookingId: string, bookingToken?: string): Promise<BookingView>;
  /** Admin cancel; `refundPercent` (whole, 0-100, default 100) of each total is due back. */
  cancelBookings(
    showId: string,
    bookingIds: string[],
    ctx?: CallContext,
    opts?: { refundPercent?: number | undefined },
  ): Promise<BookingView[]>;
  /** The customer cancels their own booking: FORBIDDEN on a wrong token, the show's cancellation policy sets the refund. */
  cancelOwnBooking(showId: string, bookingId: string, bookingToken: string, ctx?: CallContext): Promise<BookingView>;
  /** Admin: the show's bookings, those it keeps in memory and those archived, one page at a time. */
  listBookings(showId: string, req: BookingListRequest): Promise<BookingPage>;

  /** Calls `listener` with every committed delta of the show, in order. Returns an unsubscribe. */
  watch(showId: string, listener: (delta: SeatDelta) => void): () => void;

  /** Admin: seat counts per category and section, and sales, from the counters the show keeps. */
  getReport(showId: string): Promise<ShowReport>;
  /**
   * Admin: one seat's status changes, oldest first, read from the show's event log (bounded by
   * its retention). NOT_FOUND when the seat is in no layout the log shows.
   */
  getSeatHistory(showId: string, seatId: string): Promise<SeatHistory>;
}
