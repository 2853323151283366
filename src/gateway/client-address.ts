import { isIP } from 'node:net';

/**
 * The client address every limit and idempotency scope is keyed on. Behind a reverse proxy
 * the socket peer is the proxy, so X-Forwarded-For is read, but only when the peer is one of
 * `trustedProxies` (otherwise any client could name itself anyone). The right-most entry that
 * is not itself a trusted proxy is the client: entries further left were written by the
 * client and prove nothing.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: readonly string[],
): string {
  const socketAddress = normalize(peer ?? 'unknown');
  if (forwardedFor === undefined || !trustedProxies.includes(socketAddress)) return socketAddress;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((h) => normalize(h.trim()))
    .filter((h) => isIP(h) !== 0);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as string;
    if (!trustedProxies.includes(hop)) return hop;
  }
  return socketAddress;
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one client. */
function normalize(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
