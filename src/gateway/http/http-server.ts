import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { ErrorCode, SeatError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { CallContext, SeatService } from '../../service/seat-service.ts';
import { AdminAuth } from '../../admin-auth.ts';
import { ADMIN_CALLER, EdgeIdentity } from '../caller.ts';
import { checkCustomerId, checkIdempotencyKey } from '../../service/schemas/edge-rules.ts';
import { clientAddress } from '../client-address.ts';
import { createEdgeLimiter, DEFAULT_EDGE_LIMITS, type EdgeLimiter } from '../limits/index.ts';
import { parseJsonBody, readBody } from './body.ts';
import { toHttpError } from './error-mapping.ts';
import { metricsText } from '../../metrics.ts';
import { recordCommand, recordHttpRequest } from './http-metrics.ts';
import { IdempotencyCache, type IdempotencyCacheOptions, type StoredResponse } from './idempotency-cache.ts';
import { contractDocument, DOCUMENT_CACHE_CONTROL } from '../../contract/documents.ts';
import { acceptsGzip, bookingTokenOf, holdTokenOf, matchShowsPath, type Route } from './routes.ts';

export interface HttpHandlerOptions {
  service: SeatService;
  adminToken: string;
  maxBodyBytes: number;
  logger: Logger;
  /** Serves what the API does not (the seat-map page); returns true when it answered. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean;
  idempotency?: IdempotencyCacheOptions;
  /** Who calls: client address behind trusted proxies, customer tokens. Default: the socket peer, no tokens. */
  identity?: EdgeIdentity;
  /** Rate limits; default: the product defaults, counted in this process. */
  limiter?: EdgeLimiter;
  /** Peers whose X-Forwarded-For names the client (see client-address.ts). */
  trustedProxies?: readonly string[];
  /** When set, /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
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
  /** A shared, pre-serialized JSON body (then `body` is null): written in slices as the socket drains. */
  bytes?: Buffer;
  gzip?: boolean;
}

const EMPTY = Buffer.alloc(0);
const KNOWN_METHODS = new Set(['GET', 'POST', 'PATCH', 'DELETE', 'PUT', 'HEAD', 'OPTIONS']);
/**
 * Every answer, JSON or page: a browser must never guess another type from the content. Passed
 * with the rest to writeHead rather than set per request with setHeader, which would send every
 * header of every reply through node's slower merge path.
 */
const NOSNIFF_LIST: readonly string[] = ['x-content-type-options', 'nosniff'];
const JSON_HEADER_LIST: readonly string[] = [
  'content-type',
  'application/json; charset=utf-8',
  'cache-control',
  'no-store',
  ...NOSNIFF_LIST,
];
/** Hold attempts are what the per-address and per-customer rate limits count. */
const HOLD_ROUTE = 'hold';

function json(status: number, body: unknown): Answer {
  return { status, headers: null, body: JSON.stringify(body) };
}

function errorAnswer(err: unknown): Answer {
  const e = toHttpError(err);
  return { status: e.status, headers: e.headers, body: e.body, code: e.code };
}

/**
 * Bytes handed to a socket per write. A big shared body goes out one slice at a time, the
 * next when the socket drains, so a slow reader holds a view of the shared Buffer instead
 * of a copy, and no single write hogs the event loop.
 */
const WRITE_SLICE_BYTES = 256 * 1024;

/**
 * Every response leaves in one socket write (test/integration/http-replies.test.ts counts
 * them): a small body goes to `res.end` with its headers; a big one's first `res.write` is
 * corked by node until the next tick, so the header block rides with the first slice.
 */
function sendBytes(res: ServerResponse, status: number, bytes: Buffer, gzip: boolean): void {
  res.writeHead(status, gzip ? GZIP_BYTES_HEADERS(bytes.length) : BYTES_HEADERS(bytes.length));
  if (bytes.length <= WRITE_SLICE_BYTES) {
    res.end(bytes);
    return;
  }
  let offset = 0;
  const pump = (): void => {
    while (offset < bytes.length) {
      const end = Math.min(offset + WRITE_SLICE_BYTES, bytes.length);
      const more = res.write(bytes.subarray(offset, end));
      offset = end;
      if (!more && offset < bytes.length) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

const BYTES_HEADERS = (length: number) => [...JSON_HEADER_LIST, 'content-length', length, 'vary', 'accept-encoding'];
const GZIP_BYTES_HEADERS = (length: number) => [
  ...JSON_HEADER_LIST,
  'content-length',
  length,
  'vary',
  'accept-encoding',
  'content-encoding',
  'gzip',
];

function send(res: ServerResponse, a: Answer | StoredResponse): void {
  if ('bytes' in a && a.bytes) return sendBytes(res, a.status, a.bytes, a.gzip === true);
  if (a.body === null) {
    const headers: Array<string | number> = [...NOSNIFF_LIST];
    if (a.headers) for (const name in a.headers) headers.push(name, a.headers[name] as string);
    res.writeHead(a.status, headers);
    res.end();
    return;
  }
  // A flat [name, value, …] list: no object spread per response.
  const headers: Array<string | number> = [...JSON_HEADER_LIST, 'content-length', Buffer.byteLength(a.body)];
  if (a.headers) for (const name in a.headers) headers.push(name, a.headers[name] as string);
  res.writeHead(a.status, headers);
  res.end(a.body);
}

/** A hold's customerId as sent, checked here already: the caller (and its customer token) depends on it. */
function customerIdOf(body: unknown): string | undefined {
  const id = typeof body === 'object' && body !== null ? (body as { customerId?: unknown }).customerId : undefined;
  return typeof id === 'string' ? checkCustomerId(id) : undefined;
}

function headerOf(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Bodies up to this many bytes are their own fingerprint (a digest is as long and costs a hash). */
const RAW_FINGERPRINT_MAX_BYTES = 43;

/**
 * What tells a retry's body from another body under the same key. Short bodies (a hold of a
 * few seats, a confirm's `{}`) are compared as they are; longer ones by SHA-256. The two kinds
 * are tagged so that a body never equals another body's digest.
 */
export function bodyFingerprint(raw: Buffer): string {
  return raw.length <= RAW_FINGERPRINT_MAX_BYTES
    ? `r${raw.toString('latin1')}`
    : `h${createHash('sha256').update(raw).digest('base64url')}`;
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
  const metricsAuth = opts.metricsToken === undefined ? null : new AdminAuth(opts.metricsToken);
  const limiter = opts.limiter ?? createEdgeLimiter(DEFAULT_EDGE_LIMITS, { kind: 'memory' }, opts.logger);
  const trustedProxies = opts.trustedProxies ?? [];
  const idempotency = new IdempotencyCache(opts.idempotency);
  const identity = opts.identity ?? new EdgeIdentity();
  let ready = false;

  async function run(
    route: Route,
    params: string[],
    query: string,
    body: unknown,
    holdToken: string,
    bookingToken: string | undefined,
    ctx: CallContext,
    gzipOk: boolean,
  ): Promise<Answer> {
    try {
      const reply = await route.handle({ service, params, query, body, holdToken, bookingToken, ctx, acceptsGzip: gzipOk });
      if (reply.json) return { status: reply.status, headers: null, body: null, bytes: reply.json, gzip: reply.gzip === true };
      return reply.body === undefined ? { status: reply.status, headers: null, body: null } : json(reply.status, reply.body);
    } catch (err) {
      const answer = errorAnswer(err);
      if (answer.status >= 500) log.warn({ err, route: route.name, code: answer.code }, 'request failed');
      return answer;
    }
  }

  async function serveRoute(route: Route, req: IncomingMessage, params: string[], query: string): Promise<Answer> {
    // Derived once: the limits and the caller below both key on it.
    const address = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trustedProxies);
    const bookingToken = route.bookingToken ? bookingTokenOf(req.headers) : undefined;
    // A booking's customer (Booking-Token) calls an admin route as themselves, not as the admin.
    const admin = route.admin && bookingToken === undefined;
    if (admin) await limiter.admin(address, () => auth.check(req.headers.authorization));
    const holdToken = route.holdToken ? holdTokenOf(req.headers) : '';
    const method = req.method as string;
    const key = method === 'GET' ? undefined : checkIdempotencyKey(req.headers['idempotency-key'], 'Idempotency-Key');
    const raw = route.body === 'none' ? EMPTY : await readBody(req, maxBodyBytes);
    const body = parseJsonBody(req, raw);
    const customerId = route.customer ? customerIdOf(body) : undefined;
    const identified: CallContext = admin
      ? { caller: ADMIN_CALLER, ...(key !== undefined ? { idempotencyKey: key } : {}) }
      : identity.context(
          // The address as derived above, as the peer with nothing forwarded: it is not derived again.
          { peer: address, forwardedFor: undefined, customerId, customerToken: headerOf(req.headers['customer-token']) },
          key,
        );
    // A command still queued at its show when the client has given up is dropped undone.
    const ctx: CallContext =
      opts.commandDeadlineMs !== undefined ? { ...identified, deadline: Date.now() + opts.commandDeadlineMs } : identified;
    // Before the idempotency cache: a refused attempt is never replayed as the answer.
    if (route.name === HOLD_ROUTE) await limiter.hold('http', address, route.customer ? customerId : customerIdOf(body));
    const gzipOk = acceptsGzip(req.headers['accept-encoding']);
    if (key === undefined) return run(route, params, query, body, holdToken, bookingToken, ctx, gzipOk);
    // Scoped by caller (and, for hold commands, by the hold token): another caller's key,
    // however alike, never meets this one.
    const cacheKey = `${method}\n${req.url}\n${ctx.caller}\n${holdToken}\n${bookingToken ?? ''}\n${key}`;
    return idempotency.run(
      cacheKey,
      bodyFingerprint(raw),
      () => run(route, params, query, body, holdToken, bookingToken, ctx, gzipOk),
      keepForReplay,
    );
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
        return done(
          res,
          method,
          'readyz',
          ready ? json(200, { status: 'ready' }) : errorAnswer(new SeatError(ErrorCode.UNAVAILABLE, 'not ready')),
        );
      if (path === '/metrics') {
        if (metricsAuth) {
          try {
            metricsAuth.check(req.headers.authorization);
          } catch (err) {
            return done(res, method, 'metrics', errorAnswer(err));
          }
        }
        const m = await metricsText();
        res.writeHead(200, {
          'content-type': m.contentType,
          'content-length': Buffer.byteLength(m.body),
          'x-content-type-options': 'nosniff',
        });
        res.end(m.body);
        return recordHttpRequest(method, 'metrics', 200);
      }
      // The API descriptions (src/contract/): built once, cacheable, revalidated by ETag.
      const doc = contractDocument(path);
      if (doc) {
        const headers = { 'cache-control': DOCUMENT_CACHE_CONTROL, etag: doc.etag };
        const fresh = req.headers['if-none-match'] === doc.etag;
        return done(
          res,
          method,
          'api_description',
          fresh ? { status: 304, headers, body: null } : { status: 200, headers, body: doc.body },
        );
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
    if (method === 'GET' || method === 'HEAD') {
      // The page's answers carry it too, whoever serves them.
      res.setHeader('x-content-type-options', 'nosniff');
      if (opts.fallback?.(req, res)) return recordHttpRequest(method, 'page', res.statusCode);
    }
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
