import type { CancellationRule, ShowDefinition } from './types.ts';

/**
 * What a customer gets back when cancelling their own booking. Pure: the time arrives as `now`.
 *
 * A policy is a list of rules `{ hoursBeforeStart, refundPercent }`. The rules are read from
 * the highest `hoursBeforeStart` down; the first whose `hoursBeforeStart` is at most the hours
 * left before the show starts applies (exactly equal applies). No rule applies: the customer
 * can no longer cancel (CANCELLATION_CLOSED). A show without a policy refunds in full until
 * it starts.
 */

/** Full refund until the start; after it, no customer cancellation. */
export const DEFAULT_CANCELLATION_POLICY: readonly CancellationRule[] = Object.freeze([
  Object.freeze({ hoursBeforeStart: 0, refundPercent: 100 }),
]);

const HOUR_MS = 3_600_000;

export function policyOf(def: Pick<ShowDefinition, 'cancellationPolicy'>): readonly CancellationRule[] {
  return def.cancellationPolicy ?? DEFAULT_CANCELLATION_POLICY;
}

/** Hours from `now` until the show's start (negative once it has started; fractional). */
export function hoursBeforeStart(def: Pick<ShowDefinition, 'startsAt'>, now: number): number {
  return (Date.parse(def.startsAt) - now) / HOUR_MS;
}

/** The refund percent a customer cancelling at `now` gets, or null when no rule applies. */
export function customerRefundPercent(def: Pick<ShowDefinition, 'startsAt' | 'cancellationPolicy'>, now: number): number | null {
  const left = hoursBeforeStart(def, now);
  const rules = [...policyOf(def)].sort((a, b) => b.hoursBeforeStart - a.hoursBeforeStart);
  for (const rule of rules) if (rule.hoursBeforeStart <= left) return rule.refundPercent;
  return null;
}

/**
 * `percent` (a whole number, 0-100) of `total` minor units, rounded to the nearest minor unit
 * with halves rounded up, as offer discounts are: in integers, so no float error creeps in.
 */
export function refundAmount(total: number, percent: number): number {
  const scaled = total * percent + 50;
  if (Number.isSafeInteger(scaled)) return Math.floor(scaled / 100);
  // Totals near 2^53 (prices are bounded only by that): exact in BigInt.
  return Number((BigInt(total) * BigInt(percent) + 50n) / 100n);
}
