import { z } from 'zod';

/**
 * The only module that reads the environment. Every setting is optional; defaults carry
 * their unit in the name. Invalid values stop the process at start with a clear message.
 */

export const DEFAULT_PORT = 8080;
export const DEFAULT_GRPC_PORT = 50051;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_SNAPSHOT_EVERY_EVENTS = 5_000;
export const DEFAULT_SNAPSHOT_EVERY_MS = 60_000;
export const DEFAULT_PASSIVATE_AFTER_MS = 10 * 60_000;

const port = z.coerce.number().int().min(0).max(65535);
const flag = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const EnvSchema = z.object({
  PORT: port.default(DEFAULT_PORT),
  GRPC_PORT: port.default(DEFAULT_GRPC_PORT),
  HOST: z.string().min(1).default('0.0.0.0'),
  ROLE: z.enum(['all', 'gateway', 'worker']).default('all'),
  NODE_ID: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only').optional(),
  NATS_URL: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
  REDIS_URL: z.string().min(1).optional(),
  ADMIN_TOKEN: z.string().min(8, 'ADMIN_TOKEN must be at least 8 characters').optional(),
  HOLD_TOKEN_SECRET: z.string().min(16, 'HOLD_TOKEN_SECRET must be at least 16 characters').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(16 * 1024 * 1024).default(DEFAULT_MAX_BODY_BYTES),
  SNAPSHOT_EVERY_EVENTS: z.coerce.number().int().min(1).default(DEFAULT_SNAPSHOT_EVERY_EVENTS),
  SNAPSHOT_EVERY_MS: z.coerce.number().int().min(100).default(DEFAULT_SNAPSHOT_EVERY_MS),
  PASSIVATE_AFTER_MS: z.coerce.number().int().min(1000).default(DEFAULT_PASSIVATE_AFTER_MS),
  DEMO_SHOW: flag.default(true),
});

export interface Config {
  port: number;
  grpcPort: number;
  host: string;
  role: 'all' | 'gateway' | 'worker';
  nodeId: string | undefined;
  natsUrl: string | undefined;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Undefined: the node generates one at start and logs it. */
  adminToken: string | undefined;
  holdTokenSecret: string | undefined;
  dataDir: string;
  logLevel: string;
  maxBodyBytes: number;
  snapshotEveryEvents: number;
  snapshotEveryMs: number;
  passivateAfterMs: number;
  demoShow: boolean;
}

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
  return {
    port: e.PORT,
    grpcPort: e.GRPC_PORT,
    host: e.HOST,
    role: e.ROLE,
    nodeId: e.NODE_ID,
    natsUrl: e.NATS_URL,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    adminToken: e.ADMIN_TOKEN,
    holdTokenSecret: e.HOLD_TOKEN_SECRET,
    dataDir: e.DATA_DIR,
    logLevel: e.LOG_LEVEL,
    maxBodyBytes: e.MAX_BODY_BYTES,
    snapshotEveryEvents: e.SNAPSHOT_EVERY_EVENTS,
    snapshotEveryMs: e.SNAPSHOT_EVERY_MS,
    passivateAfterMs: e.PASSIVATE_AFTER_MS,
    demoShow: e.DEMO_SHOW,
  };
}

/** The log level alone, read early so the logger exists before the rest is validated. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const level = env.LOG_LEVEL;
  return level && EnvSchema.shape.LOG_LEVEL.safeParse(level).success ? level : 'info';
}
