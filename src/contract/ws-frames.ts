import { z } from 'zod';
import { CategoryView, ErrorDetail, HoldExtended, HoldGranted, BookingGranted, SeatStatus, ShowStatus } from './responses.ts';

/**
 * The frames the server sends on `/v1/ws` (their TypeScript shapes are in
 * src/gateway/ws/protocol.ts; shape-checks.ts keeps the two in step), for the AsyncAPI
 * description. The client frames need no copy: protocol.ts validates them with zod already.
 */

const version = z.number().int().min(0);

export const LayoutRow = z.object({
  section: z.string(),
  label: z.string(),
  start: version.describe("index of the row's first seat"),
  count: version,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the description shows the label pattern in template syntax
  prefix: z.string().describe('seat k of the row is labelled `${prefix}${first + k}`'),
  first: z.number().int(),
  category: version.describe('index into categories'),
});

export const SnapshotFrame = z.object({
  type: z.literal('snapshot'),
  showId: z.string(),
  version,
  layoutVersion: version,
  status: ShowStatus,
  categories: z.array(CategoryView),
  rows: z.array(LayoutRow).optional().describe('absent when the client said it has layoutVersion cached'),
  labels: z.array(z.string()).optional().describe('only when the rows cannot express the labels'),
  categoryOf: z.array(version).optional(),
  seats: z
    .string()
    .regex(/^[ahbx]*$/)
    .describe('one character per seat in index order: a available, h held, b booked, x blocked'),
});

export const DeltaFrame = z.object({
  type: z.literal('delta'),
  showId: z.string(),
  fromVersion: version.describe('apply when fromVersion <= mine < version; fromVersion > mine is a gap: resubscribe with fromVersion'),
  version,
  changes: z.array(z.tuple([z.string(), SeatStatus])).describe('[seat id, status at version]'),
  showStatus: ShowStatus.optional(),
  ts: z.number().describe("the server's send time, ms since the epoch"),
});

export const SubscribedFrame = z
  .object({ type: z.literal('subscribed'), showId: z.string(), version })
  .describe('a resume finished: every missed delta was sent before it');

const result = { type: z.literal('result'), requestId: z.string() };
export const ResultFrame = z.union([
  HoldGranted.extend({ ...result, op: z.literal('hold') }),
  HoldExtended.extend({ ...result, op: z.literal('extend') }),
  BookingGranted.extend({ ...result, op: z.literal('confirm') }),
  z.object({ ...result, op: z.literal('release'), holdId: z.string(), released: z.literal(true) }),
]);

export const ErrorFrame = ErrorDetail.extend({ type: z.literal('error'), requestId: z.string().optional(), showId: z.string().optional() });
