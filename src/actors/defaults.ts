import type { Offers, ShowLimits } from './types.ts';

/** Per-show limits when the admin gives none. */
export const DEFAULT_LIMITS: ShowLimits = {
  maxSeatsPerHold: 10,
  holdTtlSeconds: 600,
  maxHoldSeconds: 1800,
};

/** The platform's standard offers: the third ticket at half price, afternoon shows 20 % off. */
export const DEFAULT_OFFERS: Offers = {
  nthTicket: { n: 3, percentOff: 50 },
  afternoon: { from: '12:00', to: '17:00', percentOff: 20 },
};
