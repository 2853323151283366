// What the page says about a show's time and a booking's cancellation. Pure functions.

/** @typedef {NonNullable<import('../../../client/index.ts').ShowView['cancellationPolicy']>[number]} CancellationRule */

const ISO_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A show's start in the venue's local time: the wall-clock part of `startsAt` as written,
 * with its offset, whatever the browser's own time zone (a 19:30 +05:30 show reads 7:30 PM
 * in a browser set to UTC). Formatted by the browser's locale, as UTC so nothing shifts it.
 * @param {string | undefined} startsAt
 */
export function venueTime(startsAt) {
  const m = ISO_WITH_OFFSET.exec(startsAt ?? '');
  if (!m) return startsAt ?? '';
  const [, y, mo, d, h, mi, s] = m;
  const wall = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0)));
  const text = wall.toLocaleString(undefined, { timeZone: 'UTC', dateStyle: 'medium', timeStyle: 'short' });
  return `${text} (UTC${m[7] === 'Z' ? '' : m[7]})`;
}

/**
 * What cancelling now would refund under the show's policy (the server decides; this is the
 * same rule, for showing before asking): the rule with the highest hoursBeforeStart not above
 * the hours left, its percent of the total rounded to the nearest minor unit, halves up.
 * null: no rule applies, the booking can no longer be cancelled by its customer.
 * @param {CancellationRule[] | undefined} policy absent: the default, a full refund until the start
 * @param {string} startsAt
 * @param {number} total minor units
 * @param {number} [now] ms since the epoch
 * @returns {{ refundPercent: number, refundDue: number } | null}
 */
export function refundPreview(policy, startsAt, total, now = Date.now()) {
  const hoursLeft = (Date.parse(startsAt) - now) / 3_600_000;
  const rules = [...(policy ?? [{ hoursBeforeStart: 0, refundPercent: 100 }])].sort((a, b) => b.hoursBeforeStart - a.hoursBeforeStart);
  const rule = rules.find((r) => r.hoursBeforeStart <= hoursLeft);
  if (!rule) return null;
  return { refundPercent: rule.refundPercent, refundDue: Math.floor((total * rule.refundPercent + 50) / 100) };
}
