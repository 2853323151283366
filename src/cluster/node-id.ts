import { hostname } from 'node:os';

/** NODE_ID, or `<hostname>-<pid>`; only characters that are safe in a NATS subject token and a Redis key. */
export function resolveNodeId(configured: string | undefined): string {
  if (configured) return configured;
  return `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
}
