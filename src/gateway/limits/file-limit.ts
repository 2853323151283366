import { readFileSync } from 'node:fs';

/**
 * Descriptors kept free for everything that is not a WebSocket: HTTP and gRPC connections,
 * Postgres, NATS and Redis clients, the event log and snapshot files.
 */
export const FILE_RESERVE_MIN = 256;
/** At least this share of the file limit is kept free too, for larger deployments. */
export const FILE_RESERVE_SHARE = 0.1;

/**
 * The process's soft RLIMIT_NOFILE, read from /proc/self/limits on Linux; null where that
 * file does not exist or says unlimited (then the configured caps stand as they are).
 */
export function openFileLimit(limitsText?: string): number | null {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return null;
    }
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  const n = soft === undefined ? NaN : Number(soft);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** The socket cap to use: the configured one, lowered to leave a reserve below the file limit. */
export function socketCapFor(configured: number, fileLimit: number | null): number {
  if (fileLimit === null) return configured;
  const reserve = Math.max(FILE_RESERVE_MIN, Math.ceil(fileLimit * FILE_RESERVE_SHARE));
  return Math.max(1, Math.min(configured, fileLimit - reserve));
}
