/**
 * One worked example per operation of the HTTP API, all about one small show (`demo`, one
 * row of four seats): what a client sends and what it gets back. The API description shows
 * them; the contract tests check each against its operation's request and response schemas,
 * so an example cannot drift from what the server accepts and answers.
 */

export interface OperationExample {
  /** Query parameters, as the URL carries them. */
  query?: Record<string, string>;
  /** The JSON request body. */
  request?: unknown;
  /** The success answer's body (absent for 204). */
  response?: unknown;
}

const gold = { id: 'gold', name: 'Gold', price: 50000, currency: 'INR' };
const layout = { sections: [{ id: 'main', rows: [{ label: 'A', seats: 4, category: 'gold' }] }] };
const createBody = {
  id: 'demo',
  title: 'Hamlet',
  city: 'Pune',
  venue: 'Balgandharva',
  startsAt: '2026-12-01T19:30:00+05:30',
  categories: [gold],
  layout,
  limits: { maxSeatsPerHold: 4 },
};
const seat = (n: number, status: string) => ({ id: `A-${n}`, category: 'gold', price: 50000, status });
const showView = {
  ...createBody,
  layout: { ...layout, unqualifiedSection: 'main' },
  limits: { maxSeatsPerHold: 4, holdTtlSeconds: 600, maxHoldSeconds: 1800 },
  offers: { nthTicket: { n: 3, percentOff: 50 }, afternoon: { from: '12:00', to: '17:00', percentOff: 20 } },
  cancellationPolicy: [{ hoursBeforeStart: 0, refundPercent: 100 }],
  status: 'scheduled',
  version: 3,
  layoutVersion: 1,
  capacity: 4,
  counts: { available: 2, held: 0, booked: 2, blocked: 0 },
  seats: [seat(1, 'booked'), seat(2, 'booked'), seat(3, 'available'), seat(4, 'available')],
};
const lines = [
  { seat: 'A-1', category: 'gold', basePrice: 50000, discounts: [], price: 50000 },
  { seat: 'A-2', category: 'gold', basePrice: 50000, discounts: [], price: 50000 },
];
const hold = {
  holdId: 'h_8kQ2mZ',
  holdToken: 'ht_Zq3v0c9Yb1',
  seats: ['A-1', 'A-2'],
  expiresAt: '2026-11-27T10:10:00.000Z',
  price: { currency: 'INR', lines, total: 100000 },
  customerId: 'c-42',
};
const booking = {
  bookingId: 'b_P4sW1x',
  holdId: 'h_8kQ2mZ',
  showId: 'demo',
  status: 'confirmed',
  seats: ['A-1', 'A-2'],
  currency: 'INR',
  lines,
  total: 100000,
  paymentRef: 'pay_001',
  customerId: 'c-42',
  confirmedAt: '2026-11-27T10:02:00.000Z',
};
const cancelled = {
  ...booking,
  status: 'cancelled',
  cancelledAt: '2026-11-28T09:00:00.000Z',
  cancelReason: 'cancelled',
  refundDue: 100000,
  refundPercent: 100,
};
const counts = { available: 2, held: 0, booked: 2, blocked: 0 };

export const EXAMPLES = {
  listShows: {
    query: { city: 'Pune', date: '2026-12-01', limit: '20' },
    response: {
      shows: [
        {
          id: 'demo',
          title: 'Hamlet',
          city: 'Pune',
          venue: 'Balgandharva',
          startsAt: '2026-12-01T19:30:00+05:30',
          status: 'scheduled',
          version: 3,
          capacity: 4,
          available: 2,
        },
      ],
    },
  },
  createShow: {
    request: createBody,
    response: {
      ...showView,
      version: 1,
      counts: { ...counts, available: 4, booked: 0 },
      seats: [1, 2, 3, 4].map((n) => seat(n, 'available')),
    },
  },
  getShow: { query: { format: 'full' }, response: showView },
  changeShow: {
    request: { title: 'Hamlet (matinee)', startsAt: '2026-12-01T14:00:00+05:30' },
    response: { ...showView, title: 'Hamlet (matinee)', startsAt: '2026-12-01T14:00:00+05:30', version: 4 },
  },
  cancelShow: {
    request: { reason: 'the lead actor is ill' },
    response: { refunds: [{ ...cancelled, cancelReason: 'show_cancelled' }], releasedHolds: [] },
  },
  blockSeats: { request: { seats: ['A-4'] }, response: { seats: ['A-4'], status: 'blocked' } },
  unblockSeats: { request: { seats: ['A-4'] }, response: { seats: ['A-4'], status: 'available' } },
  hold: { request: { seats: ['A-1', 'A-2'], customerId: 'c-42' }, response: hold },
  extendHold: { request: { ttlSeconds: 300 }, response: { holdId: 'h_8kQ2mZ', expiresAt: '2026-11-27T10:15:00.000Z' } },
  confirm: { request: { paymentRef: 'pay_001', expectedTotal: 100000 }, response: { ...booking, bookingToken: 'bt_9dKx2LmQ' } },
  release: { request: {} },
  getBooking: { response: booking },
  cancelBooking: { request: { refundPercent: 100 }, response: cancelled },
  cancelBookings: {
    request: { bookingIds: ['b_P4sW1x'], refundPercent: 50 },
    response: { bookings: [{ ...cancelled, refundDue: 50000, refundPercent: 50 }] },
  },
  listBookings: { query: { status: 'confirmed', limit: '100' }, response: { bookings: [booking] } },
  getReport: {
    response: {
      showId: 'demo',
      version: 3,
      seats: counts,
      categories: { gold: { ...counts, price: 50000 } },
      sections: { main: counts },
      sales: { bookings: 1, seats: 2, gross: 100000, refunded: 0, net: 100000, currency: 'INR' },
    },
  },
  getSeatHistory: {
    response: {
      seatId: 'A-1',
      complete: true,
      history: [
        { version: 2, at: '2026-11-27T10:00:00.000Z', status: 'held', holdId: 'h_8kQ2mZ', customerId: 'c-42' },
        { version: 3, at: '2026-11-27T10:02:00.000Z', status: 'booked', holdId: 'h_8kQ2mZ', bookingId: 'b_P4sW1x', customerId: 'c-42' },
      ],
    },
  },
  healthz: { response: { status: 'ok' } },
  readyz: { response: { status: 'ready' } },
} satisfies Record<string, OperationExample>;

/** An error answer, as every operation may give one. */
export const ERROR_EXAMPLE = { error: { code: 'SEAT_UNAVAILABLE', message: 'seats are not available', seats: ['A-1'] } };
