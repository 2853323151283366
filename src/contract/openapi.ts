import type { z } from 'zod';
import { id as idSchema, idempotencyKey, seatLabel } from '../service/schemas/edge-rules.ts';
import { bookingToken, holdToken } from '../service/schemas/command-schemas.ts';
import type { Operation } from '../gateway/http/operation.ts';
import { ROUTES } from '../gateway/http/routes.ts';
import * as requests from '../service/schemas/request-schemas.ts';
import { ERROR_EXAMPLE } from './examples.ts';
import { components, inline, type JsonSchema } from './json-schema.ts';
import { ErrorBody, RESPONSE_SCHEMAS } from './responses.ts';
import { errorsByStatus } from './openapi-errors.ts';
import { ApiDocument, MetricsText, PageHtml, SERVER_OPERATIONS } from './server-operations.ts';

/**
 * The OpenAPI 3.1 description of the HTTP API, built from the route table (routes.ts) and
 * the server's own operations: the request schemas are the zod schemas the server validates
 * with, the response schemas those of responses.ts. Nothing in it is written by hand but
 * the prose.
 */

export const API_VERSION = '1';

/** Every operation the HTTP server answers, in the order the description lists them. */
export function allOperations(): readonly Operation[] {
  return [...ROUTES, ...SERVER_OPERATIONS];
}

const REQUEST_SCHEMAS: Record<string, z.ZodType> = {
  CreateShowBody: requests.CreateShowBody,
  ChangeShowBody: requests.ChangeShowBody,
  CancelShowBody: requests.CancelShowBody,
  HoldBody: requests.HoldBody,
  ConfirmBody: requests.ConfirmBody,
  ExtendBody: requests.ExtendBody,
  EmptyBody: requests.EmptyBody,
  SeatsBody: requests.SeatsBody,
  BulkCancelBody: requests.BulkCancelBody,
  AdminCancelBody: requests.AdminCancelBody,
};

/** Path parameters by name: the rule the handler checks them with. */
const PATH_PARAMS: Record<string, z.ZodType> = { showId: idSchema, holdId: idSchema, bookingId: idSchema, seatId: seatLabel };

const HEADERS = {
  IdempotencyKey: {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'A retry with the same key and body gets the first answer (errors included, except 429/5xx); the same key with another body is 422 IDEMPOTENCY_MISMATCH. Keys belong to their caller.',
    schema: inline(idempotencyKey),
  },
  HoldToken: { name: 'Hold-Token', in: 'header', required: true, description: "the hold's holdToken", schema: inline(holdToken) },
  BookingToken: {
    name: 'Booking-Token',
    in: 'header',
    required: false,
    description: "the booking's bookingToken: makes the call the booking's customer's (no admin token needed); 403 when wrong",
    schema: inline(bookingToken),
  },
  CustomerToken: {
    name: 'Customer-Token',
    in: 'header',
    required: false,
    description: "with CUSTOMER_TOKEN_SECRET set: the token for the body's customerId",
    schema: { type: 'string', minLength: 1, maxLength: 256 },
  },
} as const;

function pathParams(path: string): JsonSchema[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => {
    const schema = PATH_PARAMS[name];
    if (!schema) throw new Error(`no rule for the path parameter ${name}`);
    return { name, in: 'path', required: true, schema: inline(schema) };
  });
}

function queryParams(query: z.ZodObject | undefined, example: Record<string, string> = {}): JsonSchema[] {
  if (!query) return [];
  const schema = inline(query) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    schema: s,
    ...(example[name] !== undefined ? { example: example[name] } : {}),
  }));
}

function headerParams(op: Operation): Array<{ $ref: string }> {
  const refs: string[] = [];
  if (op.method !== 'GET') refs.push('IdempotencyKey');
  if (op.holdToken) refs.push('HoldToken');
  if (op.bookingToken) refs.push('BookingToken');
  if (op.customer) refs.push('CustomerToken');
  return refs.map((r) => ({ $ref: `#/components/parameters/${r}` }));
}

function security(op: Operation): Array<Record<string, string[]>> {
  if (!op.admin) return [];
  // With a Booking-Token the booking's customer calls without the admin token.
  return op.bookingToken ? [{ adminToken: [] }, {}] : [{ adminToken: [] }];
}

const RETRY_AFTER = { 'Retry-After': { description: 'seconds until a retry may succeed', schema: { type: 'integer', minimum: 1 } } };

/** Builds the document; deterministic, so it is built once per process (documents.ts). */
export function buildOpenApi(): JsonSchema {
  const named: Record<string, z.ZodType> = { ...REQUEST_SCHEMAS, ...RESPONSE_SCHEMAS, ApiDocument, MetricsText, PageHtml };
  const c = components(named, '#/components/schemas/');
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const op of allOperations()) {
    const content = (schema: z.ZodType | undefined, example: unknown, type = 'application/json') =>
      schema ? { content: { [type]: { schema: c.ref(schema), ...(example !== undefined ? { example } : {}) } } } : {};
    const responses: Record<string, JsonSchema> = {
      [op.success.status]: {
        description: op.success.description,
        ...content(op.success.schema, op.example.response, op.success.contentType),
      },
    };
    if (op.success.status !== 101)
      for (const [status, codes] of errorsByStatus(op))
        responses[status] = {
          description: codes.join(', '),
          ...(status === 429 || status === 503 ? { headers: RETRY_AFTER } : {}),
          content: {
            'application/json': {
              schema: c.ref(ErrorBody),
              ...(status === 409 && codes.includes('SEAT_UNAVAILABLE') ? { example: ERROR_EXAMPLE } : {}),
            },
          },
        };
    const operation: JsonSchema = {
      operationId: op.name,
      summary: op.summary,
      tags: [op.path.startsWith('/v1/shows') ? 'shows' : 'server'],
      parameters: [...pathParams(op.path), ...queryParams(op.query, op.example.query), ...headerParams(op)],
      security: security(op),
      ...(op.request ? { requestBody: { required: op.body === 'required', ...content(op.request, op.example.request) } } : {}),
      responses,
    };
    (paths[op.path] ??= {})[op.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Seat inventory',
      version: API_VERSION,
      description:
        'Holds, bookings and live seat maps for ticketed shows. Every error is `{"error":{"code","message",…}}` with a stable code; 503 and 504 are retryable with the same Idempotency-Key. The WebSocket frames and the out-events are described in /v1/asyncapi.json.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    tags: [
      { name: 'shows', description: 'shows, holds, bookings and reports' },
      { name: 'server', description: 'probes, metrics, the page, the WebSocket and these descriptions' },
    ],
    paths,
    components: {
      schemas: c.schemas,
      parameters: HEADERS,
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } },
    },
  };
}
