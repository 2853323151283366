import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminAuth } from '../admin-auth.ts';
import { metricsText } from '../metrics.ts';
import type { SeatError } from '../errors.ts';

export interface HealthServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * The HTTP a worker serves on PORT: `/healthz`, `/readyz`, `/metrics`, plus `extra` routes
 * (the cluster debug routes). No API: clients go through a gateway.
 */
export async function startHealthServer(opts: {
  host: string;
  port: number;
  ready: () => boolean;
  /** When set, /metrics needs `Authorization: Bearer <metricsToken>` (as on a gateway). */
  metricsToken?: string | undefined;
  extra?: (req: IncomingMessage, res: ServerResponse) => boolean;
}): Promise<HealthServer> {
  const reply = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  };
  const metricsAuth = opts.metricsToken === undefined ? null : new AdminAuth(opts.metricsToken);
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return reply(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/readyz')
      return opts.ready()
        ? reply(res, 200, { status: 'ready' })
        : reply(res, 503, { error: { code: 'UNAVAILABLE', message: 'not ready' } });
    if (req.method === 'GET' && path === '/metrics') {
      try {
        metricsAuth?.check(req.headers.authorization);
      } catch (err) {
        const e = err as SeatError;
        return reply(res, e.code === 'UNAUTHENTICATED' ? 401 : 403, {
          error: { code: e.code, message: 'metrics need authorization: Bearer <METRICS_TOKEN>' },
        });
      }
      metricsText().then(
        (m) => {
          res.writeHead(200, {
            'content-type': m.contentType,
            'x-content-type-options': 'nosniff',
            'content-length': Buffer.byteLength(m.body),
          });
          res.end(m.body);
        },
        () => reply(res, 500, { error: { code: 'INTERNAL', message: 'metrics failed' } }),
      );
      return;
    }
    if (opts.extra?.(req, res)) return;
    reply(res, 404, { error: { code: 'NOT_FOUND', message: 'no such route' } });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
