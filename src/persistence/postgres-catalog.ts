import type pg from 'pg';
import type { ShowSummary } from '../actors/views.ts';
import { localDateOf } from './memory-store.ts';
import type { Catalog, CatalogFilter } from '../core/ports.ts';
import { pgFailure } from './postgres-pool.ts';

export const DEFAULT_CATALOG_LIMIT = 100;
export const MAX_CATALOG_LIMIT = 1_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** `%`, `_` and `\` in a search term match themselves. */
function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The browsable catalog in `shows`. Filters use the btree index on
 * (lower(city), local_date); the free-text `q` is an ILIKE on title and venue (a sequential
 * filter over the rows the city/date narrowed down; add pg_trgm where it is available).
 * Results are ordered by start instant, then id. The pool belongs to the caller.
 */
export class PostgresCatalog implements Catalog {
  constructor(private readonly pool: pg.Pool) {}

  async upsert(summary: ShowSummary): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO shows (id, title, city, venue, starts_at, local_date, status, summary, version, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, now())
         ON CONFLICT (id) DO UPDATE
           SET title = EXCLUDED.title, city = EXCLUDED.city, venue = EXCLUDED.venue, starts_at = EXCLUDED.starts_at,
               local_date = EXCLUDED.local_date, status = EXCLUDED.status, summary = EXCLUDED.summary,
               version = EXCLUDED.version, updated_at = now()
           WHERE shows.version <= EXCLUDED.version`,
        [
          summary.id,
          summary.title,
          summary.city,
          summary.venue,
          summary.startsAt,
          localDateOf(summary.startsAt),
          summary.status,
          JSON.stringify(summary),
          summary.version,
        ],
      );
    } catch (err) {
      throw pgFailure(err, 'catalog upsert');
    }
  }

  async list(filter: CatalogFilter): Promise<ShowSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.city !== undefined) {
      params.push(filter.city);
      where.push(`lower(city) = lower($${params.length})`);
    }
    if (filter.date !== undefined) {
      // Same answer as the in-memory catalog for a malformed date: nothing matches.
      if (!ISO_DATE.test(filter.date) || Number.isNaN(Date.parse(filter.date))) return [];
      params.push(filter.date);
      where.push(`local_date = $${params.length}::date`);
    }
    if (filter.q !== undefined) {
      params.push(likePattern(filter.q));
      where.push(`(title ILIKE $${params.length} OR venue ILIKE $${params.length})`);
    }
    const limit = Math.min(Math.max(0, Math.trunc(filter.limit ?? DEFAULT_CATALOG_LIMIT)), MAX_CATALOG_LIMIT);
    const offset = Math.max(0, Math.trunc(filter.offset ?? 0));
    params.push(limit, offset);
    const sql =
      `SELECT summary FROM shows ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ` +
      `ORDER BY starts_at, id LIMIT $${params.length - 1} OFFSET $${params.length}`;
    try {
      const r = await this.pool.query<{ summary: ShowSummary }>(sql, params);
      return r.rows.map((row) => row.summary);
    } catch (err) {
      throw pgFailure(err, 'catalog query');
    }
  }

  async close(): Promise<void> {}
}
