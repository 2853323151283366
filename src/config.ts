import { z } from 'zod';
import * as edge from './gateway/limits/settings.ts';
import { parseAllowedOrigins } from './gateway/limits/origin-policy.ts';

/**
 * The only module that reads the environment. Every setting is optional; defaults carry
 * their unit in the name. Invalid values stop the process at start with a clear message.
 *
 * `EnvSchema` is the one list of settings: `Config` and `loadConfig`'s result are derived from
 * it, each env name becoming a field in camelCase (EVENT_LOG_SEGMENT_BYTES → eventLogSegmentBytes).
 * To add a setting, write one entry in its area's `// -- <area>` block (a new area appends its
 * block at the end): the env name, its validation with the default (or `.optional()`: unset is
 * undefined) and any reshaping as a `.transform`, under a doc comment saying what it means and
 * its unit. Then add its row to README's Configuration table (a test checks that both agree;
 * a setting only tests use is marked **tests only** there).
 */

export const DEFAULT_PORT = 8080;
export const DEFAULT_GRPC_PORT = 50051;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_SNAPSHOT_EVERY_EVENTS = 5_000;
export const DEFAULT_SNAPSHOT_EVERY_MS = 60_000;
export const DEFAULT_PASSIVATE_AFTER_MS = 10 * 60_000;
/** A worker refreshes its membership entry this often (and every process re-reads the list). */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 200;
/** A member whose last heartbeat is older than this is out of the ring (detection ≤ TTL + one poll). */
export const DEFAULT_MEMBER_TTL_MS = 800;
/** Total time a gateway spends on one routed command, retries included. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** One NATS request to an owner waits at most this long before the gateway refreshes and retries. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 2_000;
/** Most ops packed into one request message to an owner. */
export const DEFAULT_BATCH_MAX_OPS = 128;
/** Redis keys (`<prefix>:members`) and cluster NATS subjects (`<prefix>.cmd.<node>`) start with this. */
export const DEFAULT_CLUSTER_PREFIX = 'seats';

const port = z.coerce.number().int().min(0).max(65535);
const flag = z.enum(['0', '1', 'true', 'false', 'yes', 'no']).transform((v) => v === '1' || v === 'true' || v === 'yes');

const EnvSchema = z.object({
  PORT: port.default(DEFAULT_PORT),
  GRPC_PORT: port.default(DEFAULT_GRPC_PORT),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** `all`: gateway and worker in one process. */
  ROLE: z.enum(['all', 'gateway', 'worker']).default('all'),
  NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only')
    .optional(),
  NATS_URL: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
  REDIS_URL: z.string().min(1).optional(),
  /** Undefined: the node generates one at start and logs it. */
  ADMIN_TOKEN: z
    .string()
    .min(edge.MIN_ADMIN_TOKEN_CHARS, `ADMIN_TOKEN must be at least ${edge.MIN_ADMIN_TOKEN_CHARS} characters`)
    .optional(),
  HOLD_TOKEN_SECRET: z.string().min(16, 'HOLD_TOKEN_SECRET must be at least 16 characters').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(16 * 1024 * 1024)
    .default(DEFAULT_MAX_BODY_BYTES),
  SNAPSHOT_EVERY_EVENTS: z.coerce.number().int().min(1).default(DEFAULT_SNAPSHOT_EVERY_EVENTS),
  SNAPSHOT_EVERY_MS: z.coerce.number().int().min(100).default(DEFAULT_SNAPSHOT_EVERY_MS),
  PASSIVATE_AFTER_MS: z.coerce.number().int().min(1000).default(DEFAULT_PASSIVATE_AFTER_MS),
  DEMO_SHOW: flag.default(true),
  /** This worker's share of the ring relative to the others (virtual nodes scale with it). */
  NODE_WEIGHT: z.coerce.number().int().min(1).max(1000).default(1),
  HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(20).max(60_000).default(DEFAULT_HEARTBEAT_INTERVAL_MS),
  MEMBER_TTL_MS: z.coerce.number().int().min(60).max(600_000).default(DEFAULT_MEMBER_TTL_MS),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(50).max(120_000).default(DEFAULT_REQUEST_TIMEOUT_MS),
  ATTEMPT_TIMEOUT_MS: z.coerce.number().int().min(20).max(120_000).default(DEFAULT_ATTEMPT_TIMEOUT_MS),
  BATCH_MAX_OPS: z.coerce.number().int().min(1).max(4096).default(DEFAULT_BATCH_MAX_OPS),
  CLUSTER_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only')
    .default(DEFAULT_CLUSTER_PREFIX),
  /** JetStream stream, event subject prefix and bus subject prefix; undefined: the storage defaults. */
  NATS_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only')
    .optional(),
  EVENT_SUBJECT_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'dot-separated NATS tokens')
    .optional(),
  BUS_SUBJECT_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'dot-separated NATS tokens')
    .optional(),
  /** Comma-separated addresses of reverse proxies whose X-Forwarded-For names the client (empty: the socket address is the client). */
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((a) => a.trim())
        .filter((a) => a.length > 0),
    ),
  // -- edge identity (idempotency scope, customer caps and tokens)
  /** Set: a customerId is accepted only with a Customer-Token signed with this secret; undefined: customer ids are taken as sent. */
  CUSTOMER_TOKEN_SECRET: z.string().min(32, 'CUSTOMER_TOKEN_SECRET must be at least 32 characters').optional(),
  // -- edge limits (rate limits, origins, socket and stream caps)
  /** Hold attempts per client address per minute (HTTP, WebSocket); 0: no limit. */
  RATE_LIMIT_HOLDS_PER_MINUTE: z.coerce.number().int().min(0).default(edge.DEFAULT_HOLDS_PER_ADDRESS_PER_MINUTE),
  /** Hold attempts per customer id per minute, every door; 0: no limit. */
  RATE_LIMIT_CUSTOMER_HOLDS_PER_MINUTE: z.coerce.number().int().min(0).default(edge.DEFAULT_HOLDS_PER_CUSTOMER_PER_MINUTE),
  /** Hold attempts per client address per minute over gRPC; 0: no limit. */
  RATE_LIMIT_GRPC_HOLDS_PER_MINUTE: z.coerce.number().int().min(0).default(edge.DEFAULT_GRPC_HOLDS_PER_ADDRESS_PER_MINUTE),
  /** Wrong admin tokens per address per minute before admin calls from it get 429; 0: no limit. */
  RATE_LIMIT_ADMIN_FAILURES_PER_MINUTE: z.coerce.number().int().min(0).default(edge.DEFAULT_ADMIN_FAILURES_PER_ADDRESS_PER_MINUTE),
  /** Comma-separated origins (or `*`: any) whose pages may open a WebSocket; the server's own origin always may. */
  ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      try {
        return parseAllowedOrigins(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** WebSockets per gateway (lowered at start to fit the file limit) and per client address (0: no per-address cap; never more than half the total). */
  WS_MAX_SOCKETS: z.coerce.number().int().min(1).default(edge.DEFAULT_WS_MAX_SOCKETS),
  WS_MAX_SOCKETS_PER_ADDRESS: z.coerce.number().int().min(0).default(edge.DEFAULT_WS_MAX_SOCKETS_PER_ADDRESS),
  /** gRPC WatchShow streams per gateway and per client address (0: no per-address cap; never more than half the total). */
  GRPC_MAX_WATCH_STREAMS: z.coerce.number().int().min(1).default(edge.DEFAULT_GRPC_MAX_WATCH_STREAMS),
  GRPC_MAX_WATCH_STREAMS_PER_ADDRESS: z.coerce.number().int().min(0).default(edge.DEFAULT_GRPC_MAX_WATCH_STREAMS_PER_ADDRESS),
  /** Bearer token /metrics asks for; undefined: /metrics is open. */
  METRICS_TOKEN: z
    .string()
    .min(edge.MIN_ADMIN_TOKEN_CHARS, `METRICS_TOKEN must be at least ${edge.MIN_ADMIN_TOKEN_CHARS} characters`)
    .optional(),
  // -- reads (view cache)
  /** Bytes of serialized show views kept (one per show and form, least recently read dropped first). Undefined: the view cache's defaults (src/service/view-cache.ts). */
  VIEW_CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .max(16 * 1024 * 1024 * 1024)
    .optional(),
  /** Shows with at least this many seats have their full view serialized in slices. */
  VIEW_CACHE_BIG_SEATS: z.coerce.number().int().min(1).optional(),
  /** How old (since capture) a big show's cached full view may be and still be served. */
  VIEW_CACHE_MAX_STALE_MS: z.coerce.number().int().min(0).max(60_000).optional(),
  // -- cluster hop
  /** Caps one hop message below the NATS server's max_payload (bytes); larger payloads go in parts. Undefined: the server's whole max_payload. */
  HOP_MAX_FRAME_BYTES: z.coerce
    .number()
    .int()
    .min(8 * 1024)
    .max(64 * 1024 * 1024)
    .optional(),
  /** Milliseconds a gateway gives a heavy routed op (a stadium's create, map, change or cancellation: seconds of work on a busy owner), retries included. */
  HOP_HEAVY_TIMEOUT_MS: z.coerce.number().int().min(50).max(600_000).default(30_000),
  // -- actor core (idempotency retention, mailboxes)
  /** Seconds a show remembers an idempotency key; 0: the show's longest hold (maxHoldSeconds) plus 15 minutes. */
  IDEMPOTENCY_RETENTION_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 24 * 3600)
    .default(0),
  /** Most commands waiting in one show's mailbox before callers get 503 UNAVAILABLE. Default: DEFAULT_MAILBOX_MAX_COMMANDS of src/actors/show-actor.ts (about twenty full batches). */
  MAILBOX_MAX_COMMANDS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  // -- embedded storage
  /** Bytes after which the embedded event log starts a new segment file (older ones are deleted once snapshots cover them); 64 MiB. */
  EVENT_LOG_SEGMENT_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .max(2 ** 31)
    .default(64 * 1024 * 1024),
  /** `<segment file>:<byte offset>` — permission to cut a damaged embedded log there (start-up names both when it refuses); undefined: never cut. */
  EVENT_LOG_TRUNCATE_AT: z
    .string()
    .regex(/^events(-\d{6,})?\.log:\d+$/, 'like events-000003.log:123456, as the start-up error names it')
    .transform((v) => ({ file: v.slice(0, v.indexOf(':')), offset: Number(v.slice(v.indexOf(':') + 1)) }))
    .optional(),
  // -- big commands (log entry splitting)
  // -- soak
  // -- faults: Redis outage, NODE_ID claim
  /** An answer that changes nothing (a read, HOLD_NOT_FOUND) comes from memory only if the show's actor appended or checked the log's last seq this recently (ms); 0: check every time. */
  OWNER_VERIFY_WINDOW_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  /** Keep serving owned shows on a frozen ring while Redis is unreachable (the log fences stale writers). */
  SERVE_THROUGH_REDIS_OUTAGE: flag.default(true),
  /** How long a worker waits at start for a NODE_ID claim held by an earlier process to expire before refusing to start (ms); default: MEMBER_TTL_MS plus two heartbeats. */
  NODE_CLAIM_WAIT_MS: z.coerce.number().int().min(0).max(600_000).optional(),
  // -- faults (postgres and nats outages)
  /** Milliseconds a gateway holds a new request while its NATS connection is down before answering 503 UNAVAILABLE. */
  NATS_DOWN_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  // -- clock (shared decision time, skew bound)
  /** A worker whose clock is off the shared one (Redis TIME) by more than this (ms) owns no shows. */
  CLOCK_SKEW_MAX_MS: z.coerce.number().int().positive().default(500),
  /** Test-only: shifts this process's Date.now by this much (a skewed clock without faketime). */
  CLOCK_OFFSET_FOR_TESTS_MS: z.coerce.number().int().optional(),
  // -- group commit
  /** Merge the booking upserts of many shows into shared Postgres statements (0: one statement per show batch). */
  BOOKING_GROUP_COMMIT: flag.default(true),
  /** Booking upsert statements in flight at once per worker under group commit; rows arriving meanwhile wait for the next one. */
  BOOKING_WRITES_IN_FLIGHT: z.coerce.number().int().min(1).max(16).default(1),
  // -- out-events (at-least-once stream, webhook relay)
  /** JetStream stream the out-events are stored in (durable storage); default SEATS_OUT, or `<NATS_STREAM>_OUT` with a NATS_STREAM of its own. */
  OUT_STREAM: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only')
    .optional(),
  /** Byte cap of the out stream (oldest dropped first); unset: no cap, messages leave by age (7 days). JetStream reserves the cap on the server at creation. */
  OUT_STREAM_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 * 1024)
    .optional(),
  /** Embedded mode: POST every out-event to this URL (at least once, in order per show). */
  WEBHOOK_URL: z.string().url().optional(),
  /** Key of the HMAC-SHA256 signature of each webhook body (Seats-Signature header); at least 16 characters. */
  WEBHOOK_SECRET: z.string().min(16).optional(),
  /** Test-only: from the n-th committed batch with out-events on, hold them back; the process kills itself 8 batches later. */
  OUT_EVENTS_DIE_AFTER_COMMIT_FOR_TESTS: z.coerce.number().int().positive().optional(),
  // -- pipelined commits
  /** Batches of one show in flight to the log at once, each decided on the state after the one before; 1: decide the next only after the last committed. */
  PIPELINE_DEPTH: z.coerce.number().int().min(1).max(64).default(2),
});

/** `GRPC_MAX_WATCH_STREAMS` → `grpcMaxWatchStreams`. */
type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Lowercase<Head>}${Capitalize<CamelCase<Tail>>}`
  : Lowercase<S>;

type EnvValues = z.output<typeof EnvSchema>;
type EnvName = keyof EnvValues & string;

/** Every setting of EnvSchema under its camelCase name; an unset optional one is present as undefined. */
export type Config = { [K in EnvName as CamelCase<K>]-?: EnvValues[K] };

/** The Config field a setting's env name becomes. */
export function configKeyOf<K extends string>(envName: K): CamelCase<K> {
  return envName.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()) as CamelCase<K>;
}

/** Every env name the schema reads, in its order. */
export const ENV_NAMES = Object.keys(EnvSchema.shape) as EnvName[];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (e.ROLE !== 'all') {
    const missing: string[] = (['NATS_URL', 'DATABASE_URL', 'REDIS_URL'] as const).filter((k) => e[k] === undefined);
    if (e.ROLE === 'worker' && e.HOLD_TOKEN_SECRET === undefined) missing.push('HOLD_TOKEN_SECRET');
    if (missing.length > 0)
      throw new ConfigError(
        `ROLE=${e.ROLE} needs ${missing.join(', ')} (every worker must share one HOLD_TOKEN_SECRET so any of them can check a hold token)`,
      );
    if (e.MEMBER_TTL_MS < 2 * e.HEARTBEAT_INTERVAL_MS)
      throw new ConfigError(`MEMBER_TTL_MS (${e.MEMBER_TTL_MS}) must be at least twice HEARTBEAT_INTERVAL_MS (${e.HEARTBEAT_INTERVAL_MS})`);
  }
  const config: Partial<Record<keyof Config, unknown>> = {};
  for (const name of ENV_NAMES) config[configKeyOf(name)] = e[name];
  return config as Config;
}

/** The log level alone, read early so the logger exists before the rest is validated. */
/**
 * LOG_FORMAT: `pretty` (coloured lines, pino-pretty), `json` (one JSON object per line), or
 * `auto` (the default): pretty when stdout is a terminal, JSON when it is a pipe or a file.
 */
export function prettyLogsFromEnv(env: NodeJS.ProcessEnv = process.env, isTty = process.stdout.isTTY === true): boolean {
  const format = env.LOG_FORMAT ?? 'auto';
  return format === 'pretty' || (format === 'auto' && isTty);
}

export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const level = env.LOG_LEVEL;
  return level && EnvSchema.shape.LOG_LEVEL.safeParse(level).success ? level : 'info';
}
