import type { IncomingHttpHeaders } from 'node:http';
import { ErrorCode, SeatError } from '../../errors.ts';
import type { CallContext, SeatService } from '../../service/seat-service.ts';
import { EXAMPLES } from '../../contract/examples.ts';
import {
  BookingGranted,
  BookingList,
  BookingPage,
  BookingView,
  HoldExtended,
  HoldGranted,
  SeatHistory,
  SeatsChanged,
  ShowCancelled,
  ShowList,
  ShowRead,
  ShowReport,
  ShowView,
} from '../../contract/responses.ts';
import { BOOKING_TOKEN_MAX, HOLD_TOKEN_MAX } from '../../service/schemas/command-schemas.ts';
import {
  AdminCancelBody,
  BookingListQueryString,
  BulkCancelBody,
  CustomerCancelBody,
  CancelShowBody,
  CatalogQuery,
  ChangeShowBody,
  ConfirmBody,
  CreateShowBody,
  EmptyBody,
  ExtendBody,
  HoldBody,
  SeatsBody,
  SeatIdParam,
  ShowQuery,
  checkId,
  parse,
} from '../../service/schemas/request-schemas.ts';
import type { HttpMethod, Operation } from './operation.ts';
import { compileRoutes } from './route-match.ts';

/** What a route hands back: a status and a body to serialize (none for 204). */
export interface RouteReply {
  status: number;
  body?: unknown;
  /** A body already serialized to JSON (a shared view): sent as it is, never modified. */
  json?: Buffer;
  /** `json` is gzipped (the client accepts it). */
  gzip?: boolean;
}

export interface RouteInput {
  service: SeatService;
  /** Path segments after `/v1/shows/`: [showId, kind, subId, action] as present. */
  params: string[];
  query: string;
  /** Parsed JSON body; undefined when the request had none. */
  body: unknown;
  holdToken: string;
  /** The Booking-Token header, on routes that read it (`bookingToken`); undefined when not sent. */
  bookingToken?: string | undefined;
  ctx: CallContext;
  /** The client's Accept-Encoding allows gzip. */
  acceptsGzip: boolean;
}

/** A served operation: its description and its handler. */
export interface Route extends Operation {
  handle(input: RouteInput): Promise<RouteReply>;
}

type Methods = Readonly<Record<string, Route>>;

type Doc = Pick<Operation, 'summary' | 'success' | 'example'> &
  Partial<Pick<Operation, 'admin' | 'holdToken' | 'bookingToken' | 'customer' | 'body' | 'request' | 'query' | 'errors'>>;

function route(method: HttpMethod, path: string, name: string, doc: Doc, handle: Route['handle']): Route {
  return {
    method,
    path,
    name,
    summary: doc.summary,
    admin: doc.admin ?? false,
    holdToken: doc.holdToken ?? false,
    bookingToken: doc.bookingToken ?? false,
    customer: doc.customer ?? false,
    body: doc.body ?? 'none',
    ...(doc.request ? { request: doc.request } : {}),
    ...(doc.query ? { query: doc.query } : {}),
    success: doc.success,
    errors: doc.errors ?? [],
    example: doc.example,
    handle,
  };
}

const showId = (p: string[]) => checkId(p[0], 'showId');
const holdId = (p: string[]) => checkId(p[2], 'holdId');
const bookingId = (p: string[]) => checkId(p[2], 'bookingId');
const bodyOf = (b: unknown) => (b === undefined ? {} : b);

function required(body: unknown): unknown {
  if (body === undefined) throw new SeatError(ErrorCode.INVALID_ARGUMENT, 'this request needs a JSON body');
  return body;
}

/** Bodies below this go out as they are: compressing them would cost more than it saves. */
const GZIP_MIN_BYTES = 64 * 1024;

const SHOWS = '/v1/shows';
const SHOW = '/v1/shows/{showId}';
const HOLD = '/v1/shows/{showId}/holds/{holdId}';
const BOOKING = '/v1/shows/{showId}/bookings/{bookingId}';
const {
  SEAT_UNAVAILABLE,
  SHOW_CANCELLED,
  SHOW_EXISTS,
  HOLD_LIMIT_EXCEEDED,
  CUSTOMER_REQUIRED,
  PRICE_CHANGED,
  HOLD_ALREADY_CONFIRMED,
  CANCELLATION_CLOSED,
} = ErrorCode;

// Without a Booking-Token it answers as it always has (the unguessable id suffices); with one, a wrong token is 403.
const getBooking = route(
  'GET',
  BOOKING,
  'getBooking',
  {
    summary: 'a booking; with Booking-Token, checked (403 when wrong)',
    bookingToken: true,
    success: { status: 200, description: 'the booking', schema: BookingView },
    example: EXAMPLES.getBooking,
  },
  async ({ service, params, bookingToken }) => {
    const [id, booking] = [showId(params), bookingId(params)];
    return { status: 200, body: await service.getBooking(id, booking, bookingToken) };
  },
);

const seatsRoute = (name: 'blockSeats' | 'unblockSeats') =>
  route(
    'POST',
    `${SHOW}/seats/${name === 'blockSeats' ? 'block' : 'unblock'}`,
    name,
    {
      summary: name === 'blockSeats' ? 'the theatre blocks seats (admin)' : 'the theatre unblocks seats (admin)',
      admin: true,
      body: 'required',
      request: SeatsBody,
      success: { status: 200, description: 'the seats and their new status', schema: SeatsChanged },
      errors: [SEAT_UNAVAILABLE, SHOW_CANCELLED],
      example: EXAMPLES[name],
    },
    async ({ service, params, body, ctx }) => {
      const id = showId(params);
      const { seats } = parse(SeatsBody, required(body));
      await service[name](id, seats, ctx);
      return { status: 200, body: { seats, status: name === 'blockSeats' ? 'blocked' : 'available' } };
    },
  );

/**
 * Every operation served under `/v1/shows`, in the order `Allow` lists methods. The router
 * (matchShowsPath) and the API description (src/contract/openapi.ts) both read this table.
 */
export const ROUTES: readonly Route[] = [
  route(
    'GET',
    SHOWS,
    'listShows',
    {
      summary: 'browse the catalog',
      query: CatalogQuery,
      success: { status: 200, description: 'shows without their seats', schema: ShowList },
      example: EXAMPLES.listShows,
    },
    async ({ service, query }) => {
      const q = parse(CatalogQuery, Object.fromEntries(new URLSearchParams(query)));
      return { status: 200, body: { shows: await service.listShows(q) } };
    },
  ),
  route(
    'POST',
    SHOWS,
    'createShow',
    {
      summary: 'create a show (admin)',
      admin: true,
      body: 'required',
      request: CreateShowBody,
      success: { status: 201, description: 'the new show', schema: ShowView },
      errors: [SHOW_EXISTS],
      example: EXAMPLES.createShow,
    },
    async ({ service, body, ctx }) => {
      const input = parse(CreateShowBody, required(body));
      return { status: 201, body: await service.createShow(input, ctx) };
    },
  ),
  route(
    'GET',
    SHOW,
    'getShow',
    {
      summary: 'the show and its seat map; `format=compact` for labels once and one status character per seat',
      query: ShowQuery,
      success: { status: 200, description: 'ShowView, or CompactSeatMap with format=compact', schema: ShowRead },
      example: EXAMPLES.getShow,
    },
    async ({ service, params, query, acceptsGzip }) => {
      const id = showId(params);
      const format = query ? parse(ShowQuery, Object.fromEntries(new URLSearchParams(query))).format : 'full';
      const form = format === 'compact' ? 'compact' : 'full';
      // Serialized once per version and shared, where the service keeps views.
      if (service.readView) {
        const view = await service.readView(id, form);
        // Compressed once per version off the event loop: a big map costs a twentieth of the bytes to send.
        if (acceptsGzip && view.bytes.length >= GZIP_MIN_BYTES) return { status: 200, json: await view.gzipped(), gzip: true };
        return { status: 200, json: view.bytes };
      }
      return { status: 200, body: form === 'compact' ? await service.getSeatMap(id) : await service.getShow(id) };
    },
  ),
  route(
    'PATCH',
    SHOW,
    'changeShow',
    {
      summary: 'change time, layout, prices, limits, offers, cancellation policy (admin)',
      admin: true,
      body: 'required',
      request: ChangeShowBody,
      success: { status: 200, description: 'the changed show', schema: ShowView },
      errors: [SHOW_CANCELLED],
      example: EXAMPLES.changeShow,
    },
    async ({ service, params, body, ctx }) => {
      const id = showId(params);
      const changes = parse(ChangeShowBody, required(body));
      return { status: 200, body: await service.changeShow(id, changes, ctx) };
    },
  ),
  route(
    'DELETE',
    SHOW,
    'cancelShow',
    {
      summary: 'cancel the show (admin): releases holds, cancels bookings for refund',
      admin: true,
      body: 'optional',
      request: CancelShowBody,
      success: { status: 200, description: 'the refunds and released holds', schema: ShowCancelled },
      example: EXAMPLES.cancelShow,
    },
    async ({ service, params, body, ctx }) => {
      const id = showId(params);
      const { reason } = parse(CancelShowBody, bodyOf(body));
      return { status: 200, body: await service.cancelShow(id, reason, ctx) };
    },
  ),
  route(
    'POST',
    `${SHOW}/holds`,
    'hold',
    {
      summary: 'hold named seats, or the best `count` together (optionally of one category)',
      body: 'required',
      customer: true,
      request: HoldBody,
      success: { status: 201, description: 'the hold, its token and its price quote', schema: HoldGranted },
      errors: [SEAT_UNAVAILABLE, SHOW_CANCELLED, HOLD_LIMIT_EXCEEDED, CUSTOMER_REQUIRED],
      example: EXAMPLES.hold,
    },
    async ({ service, params, body, ctx }) => {
      const id = showId(params);
      const req = parse(HoldBody, required(body));
      return { status: 201, body: await service.hold(id, req, ctx) };
    },
  ),
  route(
    'DELETE',
    HOLD,
    'release',
    {
      summary: 'release a hold (a released or expired hold answers 204 too)',
      holdToken: true,
      body: 'optional',
      request: EmptyBody,
      success: { status: 204, description: 'released' },
      example: EXAMPLES.release,
    },
    async ({ service, params, body, holdToken, ctx }) => {
      const [id, hold] = [showId(params), holdId(params)];
      parse(EmptyBody, bodyOf(body));
      await service.release(id, hold, holdToken, ctx);
      return { status: 204 };
    },
  ),
  route(
    'POST',
    `${HOLD}/confirm`,
    'confirm',
    {
      summary: 'confirm a hold into a booking at its quoted price',
      holdToken: true,
      body: 'optional',
      request: ConfirmBody,
      success: { status: 201, description: 'the booking with its bookingToken', schema: BookingGranted },
      errors: [PRICE_CHANGED, SHOW_CANCELLED],
      example: EXAMPLES.confirm,
    },
    async ({ service, params, body, holdToken, ctx }) => {
      const [id, hold] = [showId(params), holdId(params)];
      const opts = parse(ConfirmBody, bodyOf(body));
      return { status: 201, body: await service.confirm(id, hold, holdToken, opts, ctx) };
    },
  ),
  route(
    'POST',
    `${HOLD}/extend`,
    'extendHold',
    {
      summary: "extend a hold, within the show's maxHoldSeconds",
      holdToken: true,
      body: 'optional',
      request: ExtendBody,
      success: { status: 200, description: 'the new expiry', schema: HoldExtended },
      errors: [HOLD_LIMIT_EXCEEDED, HOLD_ALREADY_CONFIRMED],
      example: EXAMPLES.extendHold,
    },
    async ({ service, params, body, holdToken, ctx }) => {
      const [id, hold] = [showId(params), holdId(params)];
      const { ttlSeconds } = parse(ExtendBody, bodyOf(body));
      return { status: 200, body: await service.extendHold(id, hold, holdToken, ttlSeconds, ctx) };
    },
  ),
  getBooking,
  // `bookings/cancel` is the bulk endpoint; "cancel" is never a generated booking id.
  route(
    'POST',
    `${SHOW}/bookings/cancel`,
    'cancelBookings',
    {
      summary: 'cancel several bookings (admin), optional refundPercent of each total',
      admin: true,
      body: 'required',
      request: BulkCancelBody,
      success: { status: 200, description: 'the cancelled bookings with refundDue', schema: BookingList },
      example: EXAMPLES.cancelBookings,
    },
    async ({ service, params, body, ctx }) => {
      const id = showId(params);
      const { bookingIds, refundPercent } = parse(BulkCancelBody, required(body));
      return { status: 200, body: { bookings: await service.cancelBookings(id, bookingIds, ctx, { refundPercent }) } };
    },
  ),
  // With Booking-Token: the customer cancels under the show's policy (the body must then be empty). Without: the admin (token required), with an optional refundPercent.
  route(
    'POST',
    `${BOOKING}/cancel`,
    'cancelBooking',
    {
      summary:
        "with Booking-Token the customer cancels under the show's cancellationPolicy (empty body); without, the admin, optional refundPercent",
      admin: true,
      bookingToken: true,
      body: 'optional',
      request: AdminCancelBody,
      success: { status: 200, description: 'the cancelled booking with refundDue', schema: BookingView },
      errors: [CANCELLATION_CLOSED],
      example: EXAMPLES.cancelBooking,
    },
    async ({ service, params, body, bookingToken, ctx }) => {
      const [id, booking] = [showId(params), bookingId(params)];
      if (bookingToken !== undefined) {
        parse(CustomerCancelBody, bodyOf(body));
        return { status: 200, body: await service.cancelOwnBooking(id, booking, bookingToken, ctx) };
      }
      const { refundPercent } = parse(AdminCancelBody, bodyOf(body));
      const [view] = await service.cancelBookings(id, [booking], ctx, { refundPercent });
      return { status: 200, body: view };
    },
  ),
  route(
    'GET',
    `${SHOW}/bookings`,
    'listBookings',
    {
      summary: "the show's bookings, archived ones included, in bookingId order (admin)",
      admin: true,
      query: BookingListQueryString,
      success: { status: 200, description: 'one page; nextCursor absent on the last', schema: BookingPage },
      example: EXAMPLES.listBookings,
    },
    async ({ service, params, query }) => {
      const id = showId(params);
      const q = parse(BookingListQueryString, Object.fromEntries(new URLSearchParams(query)));
      return { status: 200, body: await service.listBookings(id, q) };
    },
  ),
  seatsRoute('blockSeats'),
  seatsRoute('unblockSeats'),
  route(
    'GET',
    `${SHOW}/report`,
    'getReport',
    {
      summary: 'seats by status overall, per category and per section; sales (admin)',
      admin: true,
      success: { status: 200, description: 'the report', schema: ShowReport },
      example: EXAMPLES.getReport,
    },
    async ({ service, params }) => ({ status: 200, body: await service.getReport(showId(params)) }),
  ),
  route(
    'GET',
    `${SHOW}/seats/{seatId}/history`,
    'getSeatHistory',
    {
      summary: "one seat's status changes, oldest first, from the event log (admin); `:` in seatId may be percent-encoded",
      admin: true,
      success: { status: 200, description: 'the history', schema: SeatHistory },
      example: EXAMPLES.getSeatHistory,
    },
    async ({ service, params }) => {
      const id = showId(params);
      return { status: 200, body: await service.getSeatHistory(id, checkSeatId(params[2])) };
    },
  ),
];

/** A seat id from the path, where `:` may come percent-encoded (`main%3AA-1`). */
function checkSeatId(segment: string): string {
  let seat: string;
  try {
    seat = decodeURIComponent(segment);
  } catch {
    seat = '';
  }
  return parse(SeatIdParam, { seatId: seat }).seatId;
}

const matcher = compileRoutes(ROUTES, SHOWS);

/**
 * Finds the methods served at `/v1/shows/...` from the path segments after `shows`
 * (`rest` = [showId, kind, subId, action]), from the route table.
 */
export function matchShowsPath(rest: string[]): Methods | null {
  return matcher(rest);
}

/** The Hold-Token header: UNAUTHENTICATED when absent (a wrong one is the service's FORBIDDEN). */
export function holdTokenOf(headers: IncomingHttpHeaders): string {
  const token = headers['hold-token'];
  if (typeof token !== 'string' || token === '')
    throw new SeatError(ErrorCode.UNAUTHENTICATED, 'this call needs the Hold-Token header from the hold');
  if (token.length > HOLD_TOKEN_MAX) throw new SeatError(ErrorCode.FORBIDDEN, 'the hold token does not match this hold');
  return token;
}

/** The Booking-Token header: undefined when absent; one that cannot be a token is FORBIDDEN at once. */
export function bookingTokenOf(headers: IncomingHttpHeaders): string | undefined {
  const token = headers['booking-token'];
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || token === '' || token.length > BOOKING_TOKEN_MAX)
    throw new SeatError(ErrorCode.FORBIDDEN, 'the booking token does not match this booking');
  return token;
}

/** Whether an Accept-Encoding header allows gzip (listed, and not with q=0). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name.trim() !== 'gzip') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}
