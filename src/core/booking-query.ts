import type { BookingView } from '../actors/types.ts';
import type { BookingQuery } from './ports.ts';

/** Whether a booking is one `query` asks for (its filters; not `after` or `limit`), as every booking store reads them. */
export function matchesBookingQuery(b: Pick<BookingView, 'customerId' | 'status'>, query: BookingQuery): boolean {
  return (query.customerId === undefined || b.customerId === query.customerId) && (query.status === undefined || b.status === query.status);
}
