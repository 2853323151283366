import { z } from 'zod';
import { ErrorCode, SeatError } from '../../errors.ts';
import {
  BookingListQuery,
  CancelShowCommand,
  CreateShowCommand,
  confirmFields,
  extendFields,
  holdChoice,
  holdFields,
  holdRef,
  bookingToken,
  issueFields,
  refundPercent,
  watchFields,
} from '../../service/schemas/command-schemas.ts';
import { DATE_RE, id, idempotencyKey, int, seatLabel, text } from '../../service/schemas/edge-rules.ts';
import type { CatalogFilter } from '../../core/ports.ts';
import type { CreateShowInput, HoldRequest } from '../../service/seat-service.ts';

/**
 * Every request message checked before any actor sees it. A command's message is the shared
 * command schema (../command-schemas.ts) with its fields in snake_case: `fromProto` reads the
 * message into the camelCase object the HTTP API takes, checks it with the same schema, and
 * names problems by the message's own field paths. So every door has the same bounds.
 *
 * Requests arrive decoded with proto3 defaults ('' , 0, [], null for an unset message) while
 * `optional` fields are undefined when absent: an unset message is "not given", and so is
 * the default of each field a request lists as `emptyIsAbsent`.
 */

export const DEFAULT_LIST_LIMIT = 100;

const camelOf = (name: string) => name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const snakeOf = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * A decoded message with camelCase keys. Keys starting with `_` are the loader's virtual
 * oneof names of proto3 `optional` fields, not fields: left out.
 */
function camelize(value: unknown, emptyIsAbsent: ReadonlySet<string> | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => camelize(v, undefined));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('_') || v === undefined || v === null) continue;
    if (emptyIsAbsent?.has(key) && (v === '' || (Array.isArray(v) && v.length === 0))) continue;
    out[camelOf(key)] = camelize(v, undefined);
  }
  return out;
}

/**
 * The snake_case door to a camelCase schema. `adapt` reshapes what proto3 cannot say the
 * HTTP way (before the check); issue paths come back in snake_case.
 */
function fromProto<T extends z.ZodType>(
  schema: T,
  opts: { emptyIsAbsent?: readonly string[]; adapt?: (camel: Record<string, unknown>) => void } = {},
) {
  const emptyIsAbsent = new Set(opts.emptyIsAbsent ?? []);
  return z.unknown().transform((raw, ctx): z.output<T> => {
    const camel = camelize(raw, emptyIsAbsent) as Record<string, unknown>;
    opts.adapt?.(camel);
    const result = schema.safeParse(camel);
    if (result.success) return result.data;
    for (const issue of result.error.issues)
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path.map((p) => (typeof p === 'string' ? snakeOf(p) : p)) });
    return z.NEVER;
  });
}

/** The reply-side key names the handlers read (`show_id`, `hold_token`, ...). */
function snakeKeys<T extends Record<string, unknown>>(o: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [snakeOf(k), v]));
}

/**
 * Offers: `none: true` switches an offer off (null over HTTP); otherwise the offer's fields
 * apply. Wrapped in a message so "switched off" stays apart from "not given" (unset).
 */
function offersFromProto(camel: Record<string, unknown>): void {
  const offers = camel.offers as Record<string, Record<string, unknown>> | undefined;
  if (!offers || typeof offers !== 'object') return;
  for (const name of ['nthTicket', 'afternoon']) {
    const offer = offers[name];
    if (!offer || typeof offer !== 'object') continue;
    if (offer.none === true) (offers as Record<string, unknown>)[name] = null;
    else delete offer.none;
  }
}

const keyed = { idempotencyKey: idempotencyKey.optional() };

/** The policy travels wrapped (`{ rules }`) so "not given" stays apart from "no rules". */
function policyFromProto(camel: Record<string, unknown>): void {
  const policy = camel.cancellationPolicy as { rules?: unknown } | undefined;
  if (policy && typeof policy === 'object' && !Array.isArray(policy)) camel.cancellationPolicy = policy.rules ?? [];
}

export const CreateShowRequest = fromProto(CreateShowCommand.extend(keyed), {
  emptyIsAbsent: ['blocked_seats', 'idempotency_key'],
  adapt: (camel) => {
    offersFromProto(camel);
    policyFromProto(camel);
  },
}).transform(({ idempotencyKey: key, ...input }): { input: CreateShowInput; idempotencyKey: string | undefined } => ({
  input,
  idempotencyKey: key,
}));

export const GetShowRequest = z.object({ show_id: id, compact: z.boolean().optional() });

export const ListShowsRequest = z
  .object({
    city: text(100).optional(),
    date: z.string().regex(DATE_RE, 'YYYY-MM-DD').optional(),
    q: text(100).optional(),
    limit: int(1, 500).optional(),
    offset: int(0, 1_000_000).optional(),
  })
  .transform((r): CatalogFilter => ({ limit: r.limit ?? DEFAULT_LIST_LIMIT, city: r.city, date: r.date, q: r.q, offset: r.offset }));

export const HoldRequestSchema = fromProto(
  // proto3 cannot tell an empty list from none: [] means "no named seats".
  z.strictObject({ showId: id, ...keyed, ...holdFields }).superRefine(holdChoice),
  { emptyIsAbsent: ['seats', 'idempotency_key'] },
).transform(({ showId, idempotencyKey: key, ...req }): { showId: string; req: HoldRequest; idempotencyKey: string | undefined } => ({
  showId,
  req,
  idempotencyKey: key,
}));

/** A keyed command on one show, answered to the handlers in the message's own names. */
const onShow = <S extends z.ZodRawShape>(fields: S) =>
  fromProto(z.strictObject({ showId: id, ...keyed, ...fields }), { emptyIsAbsent: ['idempotency_key'] }).transform(
    (r) => snakeKeys(r) as SnakeOf<z.output<z.ZodObject<{ showId: typeof id } & typeof keyed & S>>>,
  );

export const ConfirmRequest = onShow({ ...holdRef, ...confirmFields });
export const ReleaseRequest = onShow(holdRef);
export const ExtendHoldRequest = onShow({ ...holdRef, ...extendFields });
export const GetBookingRequest = z.object({ show_id: id, booking_id: id, booking_token: bookingToken.optional() });
export const CancelBookingRequest = onShow({ bookingId: id, refundPercent: refundPercent.optional() });
export const CancelMyBookingRequest = onShow({ bookingId: id, bookingToken });
export const ListBookingsRequest = fromProto(BookingListQuery.extend({ showId: id }), {
  emptyIsAbsent: ['customer_id', 'status', 'cursor'],
});
export const CancelShowRequest = onShow(CancelShowCommand.shape);
export const WatchShowRequest = fromProto(z.strictObject({ showId: watchFields.showId, fromVersion: watchFields.fromVersion })).transform(
  (r) => snakeKeys(r) as { show_id: string; from_version?: number },
);

export const GetReportRequest = z.object({ show_id: id });
export const GetSeatHistoryRequest = z.object({ show_id: id, seat_id: seatLabel });

type Snake<S extends string> = S extends `${infer H}${infer T}` ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${Snake<T>}` : S;
type SnakeOf<T> = { [K in keyof T as K extends string ? Snake<K> : K]: T[K] };

/** Validates `value` or throws INVALID_ARGUMENT listing each problem by field path. */
export function parse<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fields = issueFields(result.error, 20);
  const first = fields[0];
  const message = first ? `${first.path || 'request'}: ${first.message}` : 'invalid request';
  throw new SeatError(ErrorCode.INVALID_ARGUMENT, message, { fields });
}
