/**
 * JSON bodies of the most frequent replies, put together from fragments serialized once.
 * Each gives exactly `JSON.stringify(value)` (test/unit/reply-json.test.ts holds them to that);
 * a value of any other shape (a field added, one missing, text that would need escaping) is
 * simply handed to JSON.stringify.
 */

/** Characters that never need escaping in a JSON string: what ids, tokens and ISO times consist of. */
const PLAIN = /^[A-Za-z0-9_:.+-]*$/;

const HOLD_KEYS = ['holdId', 'seats', 'expiresAt', 'price', 'holdToken'];
const HOLD_KEYS_WITH_CUSTOMER = ['holdId', 'seats', 'expiresAt', 'price', 'customerId', 'holdToken'];

/** A granted hold as the service hands it out: `{holdId, seats, expiresAt, price, customerId?, holdToken}`. */
export function holdJson(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v);
  const expected = keys.length === HOLD_KEYS.length ? HOLD_KEYS : HOLD_KEYS_WITH_CUSTOMER;
  const { holdId, expiresAt, holdToken } = v;
  if (
    keys.length !== expected.length ||
    !keys.every((k, i) => k === expected[i]) ||
    !isPlain(holdId) ||
    !isPlain(expiresAt) ||
    !isPlain(holdToken) ||
    !Array.isArray(v.seats) ||
    typeof v.price !== 'object' ||
    v.price === null ||
    (expected === HOLD_KEYS_WITH_CUSTOMER && typeof v.customerId !== 'string')
  )
    return JSON.stringify(value);
  const customer = expected === HOLD_KEYS ? '' : `,"customerId":${JSON.stringify(v.customerId)}`;
  return `{"holdId":"${holdId}","seats":${JSON.stringify(v.seats)},"expiresAt":"${expiresAt}","price":${JSON.stringify(v.price)}${customer},"holdToken":"${holdToken}"}`;
}

function isPlain(s: unknown): s is string {
  return typeof s === 'string' && PLAIN.test(s);
}
