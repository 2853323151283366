import { z } from 'zod';
import type { SeatStatus } from '../../actors/types.ts';
import type { ErrorCode, ErrorDetails } from '../../errors.ts';
import {
  confirmFields,
  extendFields,
  holdChoice,
  holdFields,
  holdRef,
  issueFields,
  watchFields,
} from '../../service/schemas/command-schemas.ts';
import { id as showId, idempotencyKey } from '../../service/schemas/edge-rules.ts';

/**
 * The WebSocket protocol: every client frame's schema (validated at the edge, before any
 * actor sees it) and the shapes of the frames the server sends. A command frame is the
 * shared command schema (../command-schemas.ts) plus its envelope: `type`, the socket's
 * `requestId`, the optional idempotency key and the show.
 */

const requestId = z.string().min(1).max(64);
const envelope = { requestId, idempotencyKey: idempotencyKey.optional(), showId };

export const SubscribeFrame = z.strictObject({ type: z.literal('subscribe'), ...watchFields });

export const UnsubscribeFrame = z.strictObject({ type: z.literal('unsubscribe'), showId });

export const HoldFrame = z
  .strictObject({
    type: z.literal('hold'),
    ...envelope,
    ...holdFields,
    /** With customer tokens on: the token for `customerId` (README, "Customer tokens"). */
    customerToken: z.string().min(1).max(256).optional(),
  })
  .superRefine(holdChoice);

export const ExtendFrame = z.strictObject({ type: z.literal('extend'), ...envelope, ...holdRef, ...extendFields });

export const ConfirmFrame = z.strictObject({ type: z.literal('confirm'), ...envelope, ...holdRef, ...confirmFields });

export const ReleaseFrame = z.strictObject({ type: z.literal('release'), ...envelope, ...holdRef });

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
  return issueFields(error, 10);
}
