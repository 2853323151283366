/** NATS subjects (and in-process bus subjects), defined once. */

export const EVENTS_STREAM = 'SEATS_EVENTS';
export const eventSubject = (showId: string) => `seats.events.${showId}`;
export const deltaSubject = (showId: string) => `seats.delta.${showId}`;

/** Out-events for other services (payment, refunds, notifications). */
export const OUT_SUBJECTS = {
  BookingConfirmed: 'seats.out.booking.confirmed',
  BookingCancelled: 'seats.out.booking.cancelled',
  HoldExpired: 'seats.out.hold.expired',
  ShowCancelled: 'seats.out.show.cancelled',
  ShowChanged: 'seats.out.show.changed',
} as const;
