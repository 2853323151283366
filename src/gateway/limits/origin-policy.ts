/**
 * Which web pages may open a WebSocket to us. A browser always sends `Origin` on a WebSocket
 * upgrade and lets any page connect anywhere, so without this check any site a fan visits
 * could hold seats through their browser. Clients that send no Origin (servers, load
 * testers, native apps) are not browsers driven by a foreign page, and are let in.
 *
 * `allowed`: exact origins (`https://tickets.example`), or `*` for any. The server's own
 * origin (the Origin whose host is the request's Host header) is always allowed.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowed.includes('*')) return true;
  const normalized = normalizeOrigin(origin);
  if (normalized === null) return false;
  if (allowed.includes(normalized)) return true;
  if (host === undefined) return false;
  return new URL(normalized).host === host.toLowerCase();
}

/** `scheme://host[:port]` in lower case, default ports dropped; null for `null` and garbage. */
export function normalizeOrigin(origin: string): string | null {
  try {
    const url = new URL(origin.trim());
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin;
  } catch {
    return null;
  }
}

/** Parses ALLOWED_ORIGINS: comma-separated origins or `*`; throws on an entry that is not one. */
export function parseAllowedOrigins(list: string): string[] {
  const out: string[] = [];
  for (const raw of list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)) {
    if (raw === '*') {
      out.push('*');
      continue;
    }
    const normalized = normalizeOrigin(raw);
    if (normalized === null) throw new Error(`"${raw}" is not an origin (scheme://host[:port])`);
    out.push(normalized);
  }
  return out;
}
