import type { IncomingHttpHeaders } from 'node:http';
import type { ShowChanges } from '../../actors/types.ts';
import { ErrorCode, SeatError } from '../../errors.ts';
import type { CallContext, CreateShowInput, SeatService } from '../../service/seat-service.ts';
import { BOOKING_TOKEN_MAX, HOLD_TOKEN_MAX } from '../command-schemas.ts';
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
} from './schemas.ts';

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

export interface Route {
  /** Command name for metrics and logs. */
  name: string;
  admin: boolean;
  /** Needs the Hold-Token header. */
  holdToken: boolean;
  /** May name a customerId in its body (checked against Customer-Token when tokens are on). */
  customer: boolean;
  /**
   * Reads the Booking-Token header. Sent, it makes the call the booking's customer's: an admin
   * route then needs no admin token (the service checks the booking token instead).
   */
  bookingToken: boolean;
  /** Whether the body is read at all; routes that take one treat an empty body as `{}` unless required. */
  body: 'none' | 'optional' | 'required';
  handle(input: RouteInput): Promise<RouteReply>;
}

type Methods = Readonly<Record<string, Route>>;

function route(name: string, opts: Partial<Pick<Route, 'admin' | 'holdToken' | 'bookingToken' | 'customer' | 'body'>>, handle: Route['handle']): Route {
  return {
    name,
    admin: opts.admin ?? false,
    holdToken: opts.holdToken ?? false,
    bookingToken: opts.bookingToken ?? false,
    customer: opts.customer ?? false,
    body: opts.body ?? 'none',
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

const SHOWS: Methods = {
  GET: route('listShows', {}, async ({ service, query }) => {
    const q = parse(CatalogQuery, Object.fromEntries(new URLSearchParams(query)));
    return { status: 200, body: { shows: await service.listShows(q) } };
  }),
  POST: route('createShow', { admin: true, body: 'required' }, async ({ service, body, ctx }) => {
    const input = parse(CreateShowBody, required(body)) as CreateShowInput;
    return { status: 201, body: await service.createShow(input, ctx) };
  }),
};

/** Bodies below this go out as they are: compressing them would cost more than it saves. */
const GZIP_MIN_BYTES = 64 * 1024;

const SHOW: Methods = {
  GET: route('getShow', {}, async ({ service, params, query, acceptsGzip }) => {
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
  }),
  PATCH: route('changeShow', { admin: true, body: 'required' }, async ({ service, params, body, ctx }) => {
    const id = showId(params);
    const changes = parse(ChangeShowBody, required(body)) as ShowChanges;
    return { status: 200, body: await service.changeShow(id, changes, ctx) };
  }),
  DELETE: route('cancelShow', { admin: true, body: 'optional' }, async ({ service, params, body, ctx }) => {
    const id = showId(params);
    const { reason } = parse(CancelShowBody, bodyOf(body));
    return { status: 200, body: await service.cancelShow(id, reason, ctx) };
  }),
};

const HOLDS: Methods = {
  POST: route('hold', { body: 'required', customer: true }, async ({ service, params, body, ctx }) => {
    const id = showId(params);
    const req = parse(HoldBody, required(body));
    return { status: 201, body: await service.hold(id, req, ctx) };
  }),
};

const HOLD: Methods = {
  DELETE: route('release', { holdToken: true, body: 'optional' }, async ({ service, params, body, holdToken, ctx }) => {
    const [id, hold] = [showId(params), holdId(params)];
    parse(EmptyBody, bodyOf(body));
    await service.release(id, hold, holdToken, ctx);
    return { status: 204 };
  }),
};

const CONFIRM: Methods = {
  POST: route('confirm', { holdToken: true, body: 'optional' }, async ({ service, params, body, holdToken, ctx }) => {
    const [id, hold] = [showId(params), holdId(params)];
    const opts = parse(ConfirmBody, bodyOf(body));
    return { status: 201, body: await service.confirm(id, hold, holdToken, opts, ctx) };
  }),
};

const EXTEND: Methods = {
  POST: route('extendHold', { holdToken: true, body: 'optional' }, async ({ service, params, body, holdToken, ctx }) => {
    const [id, hold] = [showId(params), holdId(params)];
    const { ttlSeconds } = parse(ExtendBody, bodyOf(body));
    return { status: 200, body: await service.extendHold(id, hold, holdToken, ttlSeconds, ctx) };
  }),
};

// Without a Booking-Token it answers as it always has (the unguessable id suffices); with one, a wrong token is 403.
const getBooking = route('getBooking', { bookingToken: true }, async ({ service, params, bookingToken }) => {
  const [id, booking] = [showId(params), bookingId(params)];
  return { status: 200, body: await service.getBooking(id, booking, bookingToken) };
});

const BOOKING: Methods = { GET: getBooking };

// `bookings/cancel` is the bulk endpoint; "cancel" is never a generated booking id.
const BOOKINGS_CANCEL: Methods = {
  GET: getBooking,
  POST: route('cancelBookings', { admin: true, body: 'required' }, async ({ service, params, body, ctx }) => {
    const id = showId(params);
    const { bookingIds, refundPercent } = parse(BulkCancelBody, required(body));
    return { status: 200, body: { bookings: await service.cancelBookings(id, bookingIds, ctx, { refundPercent }) } };
  }),
};

// With Booking-Token: the customer cancels under the show's policy. Without: the admin (token required), with an optional refundPercent.
const BOOKING_CANCEL: Methods = {
  POST: route('cancelBooking', { admin: true, bookingToken: true, body: 'optional' }, async ({ service, params, body, bookingToken, ctx }) => {
    const [id, booking] = [showId(params), bookingId(params)];
    if (bookingToken !== undefined) {
      parse(CustomerCancelBody, bodyOf(body));
      return { status: 200, body: await service.cancelOwnBooking(id, booking, bookingToken, ctx) };
    }
    const { refundPercent } = parse(AdminCancelBody, bodyOf(body));
    const [view] = await service.cancelBookings(id, [booking], ctx, { refundPercent });
    return { status: 200, body: view };
  }),
};

const BOOKINGS: Methods = {
  GET: route('listBookings', { admin: true }, async ({ service, params, query }) => {
    const id = showId(params);
    const q = parse(BookingListQueryString, Object.fromEntries(new URLSearchParams(query)));
    return { status: 200, body: await service.listBookings(id, q) };
  }),
};

const seatsRoute = (name: 'blockSeats' | 'unblockSeats') =>
  route(name, { admin: true, body: 'required' }, async ({ service, params, body, ctx }) => {
    const id = showId(params);
    const { seats } = parse(SeatsBody, required(body));
    await service[name](id, seats, ctx);
    return { status: 200, body: { seats, status: name === 'blockSeats' ? 'blocked' : 'available' } };
  });

const BLOCK: Methods = { POST: seatsRoute('blockSeats') };
const UNBLOCK: Methods = { POST: seatsRoute('unblockSeats') };

const REPORT: Methods = {
  GET: route('getReport', { admin: true }, async ({ service, params }) => ({ status: 200, body: await service.getReport(showId(params)) })),
};

const SEAT_HISTORY: Methods = {
  GET: route('getSeatHistory', { admin: true }, async ({ service, params }) => {
    const id = showId(params);
    return { status: 200, body: await service.getSeatHistory(id, checkSeatId(params[2])) };
  }),
};

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

/**
 * Finds the methods served at `/v1/shows/...` from the path segments after `shows`
 * (`rest` = [showId, kind, subId, action]). Plain comparisons on split segments: no
 * regex, no allocation beyond the split.
 */
export function matchShowsPath(rest: string[]): Methods | null {
  switch (rest.length) {
    case 0:
      return SHOWS;
    case 1:
      return SHOW;
    case 2:
      if (rest[1] === 'report') return REPORT;
      return rest[1] === 'holds' ? HOLDS : rest[1] === 'bookings' ? BOOKINGS : null;
    case 3:
      if (rest[1] === 'holds') return HOLD;
      if (rest[1] === 'bookings') return rest[2] === 'cancel' ? BOOKINGS_CANCEL : BOOKING;
      if (rest[1] === 'seats') return rest[2] === 'block' ? BLOCK : rest[2] === 'unblock' ? UNBLOCK : null;
      return null;
    case 4:
      if (rest[1] === 'holds') return rest[3] === 'confirm' ? CONFIRM : rest[3] === 'extend' ? EXTEND : null;
      if (rest[1] === 'bookings') return rest[3] === 'cancel' ? BOOKING_CANCEL : null;
      if (rest[1] === 'seats') return rest[3] === 'history' ? SEAT_HISTORY : null;
      return null;
    default:
      return null;
  }
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
