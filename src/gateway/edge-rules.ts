import { z } from 'zod';

/**
 * The bounds every front door (HTTP, gRPC, WebSocket) enforces before any actor sees a
 * request, defined once so the protocols cannot drift apart. Regexes are compiled here, once.
 */

/** Show, hold and booking ids become NATS subject tokens: no dots, spaces or wildcards. */
export const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const SEAT_RE = /^[A-Za-z0-9:_-]{1,32}$/;
/** Keeps `<section>:<row>-<number>` within the 32 characters of a seat label. */
export const SECTION_RE = /^[A-Za-z0-9_-]{1,16}$/;
export const ROW_RE = /^[A-Za-z0-9_]{1,8}$/;
export const HHMM_RE = /^([01]\d|2[0-3]):[0-5]\d$/;
export const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export const MAX_SEATS_PER_REQUEST = 1000;
export const MAX_TTL_SECONDS = 86_400;

export const id = z.string().regex(ID_RE, 'letters, digits, _ and - only (1-64)');
export const seatLabel = z.string().regex(SEAT_RE, 'not a seat label');
export const text = (max: number) => z.string().trim().min(1).max(max);
export const int = (min: number, max: number) => z.number().int().min(min).max(max);
export const percent = z.number().min(0).max(100);
export const price = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const currency = z.string().regex(/^[A-Z]{3}$/, 'a 3-letter ISO 4217 code');
export const sectionId = z.string().regex(SECTION_RE, 'letters, digits, _ and - only (1-16)');
export const rowLabel = z.string().regex(ROW_RE, 'letters, digits and _ only (1-8)');
