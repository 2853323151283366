import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Nothing inline, nothing from elsewhere: scripts, styles and the WebSocket come from this
 * origin only ('self' covers ws:/wss: to the same host in CSP 3).
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

let assets: Map<string, Asset> | null = null;

/** Reads the folder once: the page is a handful of small files, kept in memory. */
function loadAssets(): Map<string, Asset> {
  const map = new Map<string, Asset>();
  for (const name of readdirSync(STATIC_DIR)) {
    const type = CONTENT_TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(STATIC_DIR, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    map.set(name === 'index.html' ? '/' : `/${name}`, { body, type, etag });
  }
  return map;
}

/**
 * Serves the seat-map page (GET/HEAD `/` and its assets). Returns false for any other
 * request so the caller can answer 404. Only files present at start can be named, so no
 * path can reach outside the folder. Assets have no content hash in their names (no build
 * step), so browsers revalidate each time (`no-cache` + ETag → a cheap 304).
 */
export function servePage(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  assets ??= loadAssets();
  const pathname = (req.url ?? '/').split('?', 1)[0];
  const asset = assets.get(pathname === '/index.html' ? '/' : pathname);
  if (!asset) return false;
  res.setHeader('content-type', asset.type);
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('etag', asset.etag);
  res.setHeader('content-security-policy', PAGE_CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  if (req.headers['if-none-match'] === asset.etag) {
    res.statusCode = 304;
    res.end();
    return true;
  }
  res.statusCode = 200;
  res.setHeader('content-length', asset.body.length);
  res.end(req.method === 'HEAD' ? undefined : asset.body);
  return true;
}
