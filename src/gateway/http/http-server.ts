import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ErrorCode, SeatError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { SeatService } from '../../service/seat-service.ts';
import { AdminAuth } from '../admin-auth.ts';
import { parseJsonBody, readBody } from './body.ts';
import { toHttpError } from './error-mapping.ts';
import { recordCommand, recordHttpRequest, metricsText } from './http-metrics.ts';
import { IdempotencyCache, type IdempotencyCacheOptions, type StoredResponse } from './idempotency-cache.ts';
import { holdTokenOf, matchShowsPath, type Route } from './routes.ts';

export interface HttpHandlerOptions {
  service: SeatService;
  adminToken: string;
  maxBodyBytes: number;
  logger: Logger;
  /** Serves what the API does not (the seat-map page); returns true when it answered. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean;
  idempotency?: IdempotencyCacheOptions;
  /** How long a command may wait at its show before it is dropped undone (DEADLINE_EXCEEDED); none when absent. */
  commandDeadlineMs?: number;
}

export interface HttpHandler {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Readiness as /readyz reports it. */
  setReady(ready: boolean): void;
  readonly idempotency: IdempotencyCache;
}

/** A sent response plus the stable code behind it, for metrics. */
interface Answer extends StoredResponse {
  code?: ErrorCode;
}

const EMPTY = Buffer.alloc(0);
const IDEMPOTENCY_KEY_RE = /^[\x20-\x7E]{1,128}$/;
const KNOWN_METHODS = new Set(['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS']);
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } as const;

function json(status: number, body: unknown): Answer {
  return { status, headers: null, body: JSON.stringify(body) };
}

function errorAnswer(err: unknown): Answer {
  const e = toHttpError(err);
  return { status: e.status, headers: e.headers, body: e.body, code: e.code };
}

function send(res: ServerResponse, a: StoredResponse): void {
  if (a.body === null) {
    res.writeHead(a.status, a.headers ?? undefined);
    res.end();
    return;
  }
  const headers: Record<string, string | number> = { ...JSON_HEADERS, 'content-length': Buffer.byteLength(a.body) };
  if (a.headers) Object.assign(headers, a.headers);
  res.writeHead(a.status, headers);
  res.end(a.body);
}

/** Failures not worth replaying: a retry may well succeed. */
const keepForReplay = (a: StoredResponse) => a.status < 500 && a.status !== 429;

/**
 * The HTTP/JSON front door as a plain node:http request listener: split the path, look the
 * route up, check credentials, read a bounded body, answer (through the idempotency cache
 * for writes). No framework: per-request work is a few allocations.
 */
export function createHttpHandler(opts: HttpHandlerOptions): HttpHandler {
  const { service, maxBodyBytes } = opts;
  const log = opts.logger.child({ subsystem: 'http' });
  const auth = new AdminAuth(opts.adminToken);
  const idempotency = new IdempotencyCache(opts.idempotency);
  let ready = false;

  async function run(route: Route, req: IncomingMessage, params: string[], query: string, raw: Buffer, holdToken: string, key: string | undefined): Promise<Answer> {
    try {
      const body = parseJsonBody(req, raw);
      const deadline = opts.commandDeadlineMs !== undefined ? { deadline: Date.now() + opts.commandDeadlineMs } : {};
      const reply = await route.handle({ service, params, query, body, holdToken, ctx: key === undefined ? deadline : { idempotencyKey: key, ...deadline } });
      return reply.body === undefined ? { status: reply.status, headers: null, body: null } : json(reply.status, reply.body);
    } catch (err) {
      const answer = errorAnswer(err);
      if (answer.status >= 500) log.warn({ err, route: route.name, code: answer.code }, 'request failed');
      return answer;
    }
  }

  async function serveRoute(route: Route, req: IncomingMessage, params: string[], query: string): Promise<Answer> {
    if (route.admin) auth.check(req.headers.authorization);
    const holdToken = route.holdToken ? holdTokenOf(req.headers) : '';
    const method = req.method as string;
    let key: string | undefined;
    if (method !== 'GET') {
      const header = req.headers['idempotency-key'];
      if (header !== undefined) {
        if (typeof header !== 'string' || !IDEMPOTENCY_KEY_RE.test(header))
          throw new SeatError(ErrorCode.INVALID_ARGUMENT, 'Idempotency-Key must be 1-128 printable ASCII characters');
        key = header;
      }
    }
    const raw = route.body === 'none' ? EMPTY : await readBody(req, maxBodyBytes);
    if (key === undefined) return run(route, req, params, query, raw, holdToken, undefined);
    // Scoped by caller: an admin's key and a hold owner's key never meet.
    const who = route.admin ? 'admin' : route.holdToken ? holdToken : '-';
    const cacheKey = `${method}\n${req.url}\n${who}\n${key}`;
    const fingerprint = createHash('sha256').update(raw).digest('base64url');
    return idempotency.run(cacheKey, fingerprint, () => run(route, req, params, query, raw, holdToken, key), keepForReplay);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    const q = url.indexOf('?');
    let path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);

    if (method === 'GET') {
      if (path === '/healthz') return done(res, method, 'healthz', json(200, { status: 'ok' }));
      if (path === '/readyz')
        return done(res, method, 'readyz', ready ? json(200, { status: 'ready' }) : errorAnswer(new SeatError(ErrorCode.UNAVAILABLE, 'not ready')));
      if (path === '/metrics') {
        const m = await metricsText();
        res.writeHead(200, { 'content-type': m.contentType, 'content-length': Buffer.byteLength(m.body) });
        res.end(m.body);
        return recordHttpRequest(method, 'metrics', 200);
      }
    }

    let rest: string[] | null = null;
    if (path === '/v1/shows') rest = [];
    else if (path.startsWith('/v1/shows/')) rest = path.slice(10).split('/');
    const methods = rest === null ? null : matchShowsPath(rest);
    if (rest === null || methods === null) return notFound(req, res, method);
    const route = methods[method];
    if (!route) {
      const answer = errorAnswer(new SeatError(ErrorCode.METHOD_NOT_ALLOWED, `${method} is not served here`));
      answer.headers = { ...answer.headers, allow: Object.keys(methods).join(', ') };
      return done(res, method, 'method_not_allowed', answer);
    }

    let answer: Answer;
    try {
      answer = await serveRoute(route, req, rest, query);
    } catch (err) {
      answer = errorAnswer(err);
    }
    // The rest of an oversized body is never read: close instead of draining it.
    if (answer.code === ErrorCode.PAYLOAD_TOO_LARGE) answer = { ...answer, headers: { ...answer.headers, connection: 'close' } };
    recordCommand(route.name, answer.code ?? (answer.status < 400 ? 'ok' : 'error'), (performance.now() - started) / 1000);
    done(res, method, route.name, answer);
  }

  function notFound(req: IncomingMessage, res: ServerResponse, method: string): void {
    if ((method === 'GET' || method === 'HEAD') && opts.fallback?.(req, res)) return recordHttpRequest(method, 'page', res.statusCode);
    done(res, method, 'not_found', errorAnswer(new SeatError(ErrorCode.NOT_FOUND, 'no such route')));
  }

  function done(res: ServerResponse, method: string, routeName: string, answer: Answer): void {
    // While shutting down, keep-alive connections end after their current response.
    if (!ready) res.shouldKeepAlive = false;
    send(res, answer);
    recordHttpRequest(KNOWN_METHODS.has(method) ? method : 'OTHER', routeName, answer.status);
  }

  return {
    handle(req, res) {
      handle(req, res).catch((err: unknown) => {
        log.error({ err }, 'unhandled request failure');
        if (!res.headersSent) send(res, errorAnswer(err));
        else res.destroy();
      });
    },
    setReady(value) {
      ready = value;
    },
    idempotency,
  };
}
