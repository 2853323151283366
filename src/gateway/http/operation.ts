import type { z } from 'zod';
import type { OperationExample } from '../../contract/examples.ts';
import type { ErrorCode } from '../../errors.ts';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/**
 * One operation of the HTTP API as the API description tells it: the route table
 * (routes.ts) is a list of these with their handlers, so the router and the description
 * (src/contract/openapi.ts) read the same entries and a route cannot be served undocumented.
 */
export interface Operation {
  method: HttpMethod;
  /** The path template as the README writes it: `/v1/shows/{showId}/holds/{holdId}/confirm`. */
  path: string;
  /** The operationId; also the command name in metrics and logs. */
  name: string;
  summary: string;
  admin: boolean;
  /** Needs the Hold-Token header. */
  holdToken: boolean;
  /**
   * Reads the Booking-Token header. Sent, it makes the call the booking's customer's: an admin
   * route then needs no admin token (the service checks the booking token instead).
   */
  bookingToken: boolean;
  /** May name a customerId in its body (checked against Customer-Token when tokens are on). */
  customer: boolean;
  /** Whether the body is read at all; routes that take one treat an empty body as `{}` unless required. */
  body: 'none' | 'optional' | 'required';
  /** The schema the JSON body is validated with. */
  request?: z.ZodType;
  /** The schema the query string is validated with (unknown parameters are ignored). */
  query?: z.ZodObject;
  success: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  /** Codes particular to this operation, besides those its kind implies (see contract/openapi-errors.ts). */
  errors: readonly ErrorCode[];
  example: OperationExample;
}
