import { z } from 'zod';
import type { Operation } from '../gateway/http/operation.ts';
import { EXAMPLES } from './examples.ts';
import { HealthStatus } from './responses.ts';

/**
 * What the HTTP server answers outside `/v1/shows` (http-server.ts serves these itself,
 * before the route table): probes, metrics, the page, the WebSocket upgrade and the API
 * descriptions. Listed here so the description has them and the contract test probes them.
 */

/** An API description document (OpenAPI or AsyncAPI JSON). */
export const ApiDocument = z.record(z.string(), z.unknown());
export const MetricsText = z.string().describe('Prometheus text exposition format');
export const PageHtml = z.string().describe('HTML');

const plain = {
  admin: false,
  holdToken: false,
  bookingToken: false,
  customer: false,
  body: 'none',
  errors: [],
} as const;

export const SERVER_OPERATIONS: readonly Operation[] = [
  {
    ...plain,
    method: 'GET',
    path: '/healthz',
    name: 'healthz',
    summary: 'liveness',
    success: { status: 200, description: 'alive', schema: HealthStatus },
    example: EXAMPLES.healthz,
  },
  {
    ...plain,
    method: 'GET',
    path: '/readyz',
    name: 'readyz',
    summary: 'readiness: 503 UNAVAILABLE while starting or shutting down',
    success: { status: 200, description: 'ready', schema: HealthStatus },
    example: EXAMPLES.readyz,
  },
  {
    ...plain,
    method: 'GET',
    path: '/metrics',
    name: 'metrics',
    summary: 'Prometheus metrics (with METRICS_TOKEN set: `Authorization: Bearer <token>`)',
    success: { status: 200, description: 'Prometheus text format', schema: MetricsText, contentType: 'text/plain' },
    example: { response: '# TYPE seats_holds_total counter\nseats_holds_total 3\n' },
  },
  {
    ...plain,
    method: 'GET',
    path: '/v1/openapi.json',
    name: 'openapi',
    summary: 'this description (OpenAPI 3.1)',
    success: { status: 200, description: 'the OpenAPI document', schema: ApiDocument },
    example: { response: { openapi: '3.1.0', info: { title: 'Seat inventory', version: '1' }, paths: {} } },
  },
  {
    ...plain,
    method: 'GET',
    path: '/v1/asyncapi.json',
    name: 'asyncapi',
    summary: 'the WebSocket frames and the out-events (AsyncAPI 3.0)',
    success: { status: 200, description: 'the AsyncAPI document', schema: ApiDocument },
    example: { response: { asyncapi: '3.0.0', info: { title: 'Seat inventory events', version: '1' }, channels: {} } },
  },
  {
    ...plain,
    method: 'GET',
    path: '/v1/ws',
    name: 'websocket',
    summary: 'the live seat map and commands over a WebSocket (frames: /v1/asyncapi.json)',
    success: { status: 101, description: 'switching to the WebSocket protocol' },
    example: {},
  },
  {
    ...plain,
    method: 'GET',
    path: '/',
    name: 'page',
    summary: 'the live seat-map page (and its scripts and styles beside it)',
    success: { status: 200, description: 'the page', schema: PageHtml, contentType: 'text/html' },
    example: { response: '<!doctype html>' },
  },
];
