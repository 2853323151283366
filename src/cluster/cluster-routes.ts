import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Placement } from './placement.ts';

const OWNER_PREFIX = '/v1/cluster/owner/';
const SHOW_ID_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Read-only debug routes every cluster process serves, so tests and operators can compare
 * views across processes:
 * - `GET /v1/cluster/members` → `{ self, members }` (this process's ring)
 * - `GET /v1/cluster/owner/{showId}` → `{ showId, owner, replica }` (null when no worker lives)
 * - `GET /v1/cluster/stats` → whatever `stats()` returns (endpoint counters on a worker)
 * Returns true when it answered.
 */
export function clusterRoutes(
  placement: Placement,
  stats: () => unknown = () => ({}),
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET') return false;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/v1/cluster/members') {
      sendJson(res, 200, { self: placement.selfId, members: placement.members() });
      return true;
    }
    if (path === '/v1/cluster/stats') {
      sendJson(res, 200, stats());
      return true;
    }
    if (path.startsWith(OWNER_PREFIX)) {
      const showId = decodeURIComponent(path.slice(OWNER_PREFIX.length));
      if (!SHOW_ID_RE.test(showId)) {
        sendJson(res, 400, { error: { code: 'INVALID_ARGUMENT', message: 'bad show id' } });
        return true;
      }
      sendJson(res, 200, { showId, owner: placement.owner(showId), replica: placement.replica(showId) });
      return true;
    }
    return false;
  };
}
