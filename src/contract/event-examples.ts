import { EXAMPLES } from './examples.ts';

/**
 * One example per WebSocket frame and per out-event, about the same `demo` show as the HTTP
 * examples (examples.ts). The AsyncAPI description shows them; the contract tests check each
 * against its schema.
 */

const booking = EXAMPLES.getBooking.response;
const cancelled = EXAMPLES.cancelBooking.response;
const envelope = (type: string, version: number) => ({
  schemaVersion: 1,
  eventId: `demo:${version}`,
  type,
  showId: 'demo',
  version,
  occurredAt: '2026-11-27T10:02:00.000Z',
});

export const FRAME_EXAMPLES = {
  subscribe: { type: 'subscribe', showId: 'demo', fromVersion: 41 },
  unsubscribe: { type: 'unsubscribe', showId: 'demo' },
  hold: {
    type: 'hold',
    requestId: 'r1',
    idempotencyKey: '2f1c9a7e-4b7d-4c55-9d0e-1f3b6a8c2d40',
    showId: 'demo',
    seats: ['A-1', 'A-2'],
    customerId: 'c-42',
  },
  extend: { type: 'extend', requestId: 'r2', showId: 'demo', holdId: 'h_8kQ2mZ', holdToken: 'ht_Zq3v0c9Yb1', ttlSeconds: 300 },
  confirm: {
    type: 'confirm',
    requestId: 'r3',
    showId: 'demo',
    holdId: 'h_8kQ2mZ',
    holdToken: 'ht_Zq3v0c9Yb1',
    paymentRef: 'pay_001',
    expectedTotal: 100000,
  },
  release: { type: 'release', requestId: 'r4', showId: 'demo', holdId: 'h_8kQ2mZ', holdToken: 'ht_Zq3v0c9Yb1' },
  snapshot: {
    type: 'snapshot',
    showId: 'demo',
    version: 3,
    layoutVersion: 1,
    status: 'scheduled',
    categories: [{ id: 'gold', name: 'Gold', price: 50000, currency: 'INR' }],
    rows: [{ section: 'main', label: 'A', start: 0, count: 4, prefix: 'A-', first: 1, category: 0 }],
    seats: 'bbaa',
  },
  delta: { type: 'delta', showId: 'demo', fromVersion: 3, version: 4, changes: [['A-3', 'held']], ts: 1795773720000 },
  subscribed: { type: 'subscribed', showId: 'demo', version: 4 },
  result: { type: 'result', requestId: 'r1', op: 'hold', ...EXAMPLES.hold.response },
  error: { type: 'error', requestId: 'r1', code: 'SEAT_UNAVAILABLE', message: 'seats are not available', seats: ['A-1'] },
} as const;

export const OUT_EVENT_EXAMPLES = {
  BookingConfirmed: { ...envelope('BookingConfirmed', 3), booking },
  BookingCancelled: { ...envelope('BookingCancelled', 5), reason: 'cancelled', booking: cancelled },
  HoldExpired: { ...envelope('HoldExpired', 6), holdId: 'h_3nR7tY', seats: ['A-3'] },
  ShowCancelled: {
    ...envelope('ShowCancelled', 7),
    page: 1,
    pages: 1,
    reason: 'the lead actor is ill',
    refunds: [{ ...cancelled, cancelReason: 'show_cancelled' }],
    refundTotal: 100000,
    releasedHolds: [],
  },
  ShowChanged: {
    ...envelope('ShowChanged', 8),
    page: 1,
    pages: 1,
    show: {
      title: 'Hamlet',
      city: 'Pune',
      venue: 'Balgandharva',
      startsAt: '2026-12-01T19:30:00+05:30',
      categories: [{ id: 'gold', name: 'Gold', price: 55000, currency: 'INR' }],
    },
    releasedHolds: [],
    cancelledBookings: [],
  },
} as const;
