import { connect } from 'node:net';

/**
 * Reachability of the real servers tests use. Without REQUIRE_SERVICES a missing server
 * skips the test; with REQUIRE_SERVICES=1 (CI) it fails it.
 */
export const SERVICE_URLS = {
  postgres: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  nats: process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
  redis: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
} as const;

export type ServiceName = keyof typeof SERVICE_URLS;

const PORTS: Record<ServiceName, number> = { postgres: 5432, nats: 4222, redis: 6379 };

/** Connect attempts per probe, and how long each may take: a loaded CI box can be slow to answer. */
const PROBE_ATTEMPTS = 3;
const PROBE_TIMEOUT_MS = 3000;

async function reachable(name: ServiceName): Promise<boolean> {
  for (let attempt = 0; attempt < PROBE_ATTEMPTS; attempt++) if (await connects(name)) return true;
  return false;
}

function connects(name: ServiceName): Promise<boolean> {
  const url = new URL(SERVICE_URLS[name]);
  const port = Number(url.port || PORTS[name]);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port, timeout: PROBE_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Returns a skip reason (string) for `node:test`'s `skip` option, or false when every named
 * service is reachable. Throws under REQUIRE_SERVICES=1 so CI fails instead of skipping.
 */
export async function needServices(...names: ServiceName[]): Promise<string | false> {
  const missing: ServiceName[] = [];
  for (const n of names) if (!(await reachable(n))) missing.push(n);
  if (missing.length === 0) return false;
  const reason = `services unreachable: ${missing.join(', ')}`;
  if (process.env.REQUIRE_SERVICES === '1') throw new Error(`${reason} (REQUIRE_SERVICES=1)`);
  return reason;
}

/** A name unique to this test run, for databases, streams and key prefixes. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
