import pg from 'pg';
import { ErrorCode, SeatError } from '../errors.ts';
import type { Logger } from '../logger.ts';

export const DEFAULT_PG_POOL_MAX = 10;
/** Every statement on our connections is cancelled after this long. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;
export const DEFAULT_PG_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_PG_IDLE_TIMEOUT_MS = 30_000;

export interface PgPoolOptions {
  connectionString: string;
  max?: number;
  statementTimeoutMs?: number;
  connectTimeoutMs?: number;
  applicationName?: string;
  logger: Logger;
}

/**
 * A pg pool with bounded size and `statement_timeout` set on every connection it opens.
 * Errors of idle clients (a server restart) are logged, not thrown: unhandled, they would
 * kill the process.
 */
export function createPgPool(opts: PgPoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? DEFAULT_PG_POOL_MAX,
    statement_timeout: opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
    idle_in_transaction_session_timeout: (opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS) * 2,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? DEFAULT_PG_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: DEFAULT_PG_IDLE_TIMEOUT_MS,
    application_name: opts.applicationName ?? 'seat-inventory',
  });
  const log = opts.logger.child({ subsystem: 'postgres' });
  pool.on('error', (err) => log.warn({ err }, 'idle postgres client failed'));
  return pool;
}

/** Postgres errors that describe the request itself (bad data), not the server's health. */
const REQUEST_ERROR_CLASSES = ['22', '23', '42'];

/**
 * Wraps a failed query: server trouble (connection lost, timeouts, shutdown, too many
 * clients) becomes UNAVAILABLE so callers retry; anything else INTERNAL. The cause is kept.
 */
export function pgFailure(err: unknown, what: string): SeatError {
  if (err instanceof SeatError) return err;
  const code = (err as { code?: unknown }).code;
  const sqlClass = typeof code === 'string' && code.length === 5 ? code.slice(0, 2) : null;
  if (sqlClass !== null && REQUEST_ERROR_CLASSES.includes(sqlClass))
    return new SeatError(ErrorCode.INTERNAL, `${what} failed`, {}, { cause: err });
  return new SeatError(ErrorCode.UNAVAILABLE, `${what} failed: postgres unavailable`, {}, { cause: err });
}
