import pg from 'pg';

/**
 * Per-run databases on the shared Postgres: created at start, dropped at the end (CI and
 * other test runs use the same server, so every name is unique to the run).
 */

export const DEFAULT_PG_URL = process.env.BENCH_PG_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL of database `name` on the same server as `baseUrl`. */
export function databaseUrl(name: string, baseUrl = DEFAULT_PG_URL): string {
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsafe database name: ${name}`);
  return `"${name}"`;
}

async function withAdmin<T>(baseUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createDatabase(name: string, baseUrl = DEFAULT_PG_URL): Promise<string> {
  await withAdmin(baseUrl, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`));
  return databaseUrl(name, baseUrl);
}

/** Drops `name` if it exists, ending its sessions first. */
export async function dropDatabase(name: string, baseUrl = DEFAULT_PG_URL): Promise<void> {
  await withAdmin(baseUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`));
}

/** Backend pids serving database `name` right now, plus Postgres's WAL/checkpoint writers. */
export async function postgresPids(name: string, baseUrl = DEFAULT_PG_URL): Promise<number[]> {
  return withAdmin(baseUrl, async (c) => {
    const r = await c.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
        WHERE datname = $1 OR backend_type IN ('walwriter', 'checkpointer', 'background writer')`,
      [name],
    );
    return r.rows.map((row) => row.pid);
  });
}
