import { z } from 'zod';
import type { SeatStatus } from '../../actors/types.ts';
import type { ErrorCode, ErrorDetails } from '../../errors.ts';
import { ID_RE, MAX_TTL_SECONDS, SEAT_RE, customerId, idempotencyKey as idempotencyKeyRule } from '../edge-rules.ts';

/**
 * The WebSocket protocol: every client frame's schema (validated at the edge, before any
 * actor sees it) and the shapes of the frames the server sends.
 */

// The same id and label rules as the HTTP API.
const showId = z.string().regex(ID_RE, 'letters, digits, _ and - only (1-64)');
const requestId = z.string().min(1).max(64);
const idempotencyKey = idempotencyKeyRule.optional();
const version = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const seatLabel = z.string().regex(SEAT_RE, 'not a seat label');
const holdId = z.string().regex(ID_RE, 'not a hold id');
const holdToken = z.string().min(1).max(256);
const ttlSeconds = z.number().int().min(1).max(MAX_TTL_SECONDS).optional();

export const SubscribeFrame = z.strictObject({
  type: z.literal('subscribe'),
  showId,
  /** The version the client already has: send only what it missed, when still available. */
  fromVersion: version.optional(),
  /** The layout version whose labels the client has cached: the snapshot may omit them. */
  layoutVersion: version.optional(),
});

export const UnsubscribeFrame = z.strictObject({ type: z.literal('unsubscribe'), showId });

export const HoldFrame = z
  .strictObject({
    type: z.literal('hold'),
    requestId,
    idempotencyKey,
    showId,
    seats: z.array(seatLabel).min(1).max(100).optional(),
    count: z.number().int().min(1).max(100).optional(),
    category: z.string().min(1).max(64).optional(),
    ttlSeconds,
    customerId: customerId.optional(),
    /** With customer tokens on: the token for `customerId` (README, "Customer tokens"). */
    customerToken: z.string().min(1).max(256).optional(),
  })
  .refine((f) => (f.seats === undefined) !== (f.count === undefined), {
    message: 'give exactly one of seats or count',
    path: ['seats'],
  });

export const ExtendFrame = z.strictObject({
  type: z.literal('extend'),
  requestId,
  idempotencyKey,
  showId,
  holdId,
  holdToken,
  ttlSeconds,
});

export const ConfirmFrame = z.strictObject({
  type: z.literal('confirm'),
  requestId,
  idempotencyKey,
  showId,
  holdId,
  holdToken,
  paymentRef: z.string().min(1).max(128).optional(),
});

export const ReleaseFrame = z.strictObject({
  type: z.literal('release'),
  requestId,
  idempotencyKey,
  showId,
  holdId,
  holdToken,
});

export const ClientFrame = z.discriminatedUnion('type', [
  SubscribeFrame,
  UnsubscribeFrame,
  HoldFrame,
  ExtendFrame,
  ConfirmFrame,
  ReleaseFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type CommandFrame = Extract<ClientFrame, { type: 'hold' | 'extend' | 'confirm' | 'release' }>;

/** A row of the layout, enough for the client to rebuild every label and category. */
export interface LayoutRow {
  section: string;
  label: string;
  /** Index of the row's first seat. */
  start: number;
  count: number;
  /** Seat k of the row is labelled `${prefix}${first + k}`. */
  prefix: string;
  first: number;
  /** Index into `categories`. */
  category: number;
}

/**
 * `snapshot`: the whole map at `version`. `seats` has one character per seat in index
 * order (a available, h held, b booked, x blocked). The layout (`rows`, and `labels` /
 * `categoryOf` only when the rows cannot express them) is omitted when the client said it
 * has `layoutVersion` cached.
 */
export interface SnapshotFrameShape {
  type: 'snapshot';
  showId: string;
  version: number;
  layoutVersion: number;
  status: 'scheduled' | 'cancelled';
  categories: Array<{ id: string; name?: string; price: number; currency: string }>;
  rows?: LayoutRow[];
  labels?: string[];
  categoryOf?: number[];
  seats: string;
}

/**
 * `delta`: seats whose status changed between `fromVersion` and `version` (coalesced per
 * tick), each with its status at `version`. Apply it when fromVersion <= mine < version;
 * ignore it when version <= mine; fromVersion > mine is a gap: resubscribe with fromVersion.
 * `ts` is the server's send time (ms since epoch).
 */
export interface DeltaFrameShape {
  type: 'delta';
  showId: string;
  fromVersion: number;
  version: number;
  changes: Array<[string, SeatStatus]>;
  showStatus?: 'scheduled' | 'cancelled';
  ts: number;
}

export interface ErrorFrameShape extends ErrorDetails {
  type: 'error';
  code: ErrorCode;
  message: string;
  requestId?: string;
  showId?: string;
}

/** Field problems of a failed parse, in the error catalogue's `fields` shape. */
export function zodFields(error: z.ZodError): Array<{ path: string; message: string }> {
  return error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message }));
}
