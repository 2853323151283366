import type pg from 'pg';
import type { Snapshot, SnapshotStore } from '../core/ports.ts';
import { pgFailure } from './postgres-pool.ts';

export interface PostgresSnapshotStoreOptions {
  /**
   * Runs after a save replaced an older snapshot, once the new row is committed, with the
   * log position of the snapshot it replaced (the log below that can go: see durable-storage).
   * Awaited by `save`; must not throw (a failure is the hook's to log).
   */
  afterReplace?: ((showId: string, replacedLogSeq: number, savedLogSeq: number) => Promise<void>) | undefined;
}

/**
 * Snapshots in `show_snapshots`, one row per show. `save` is an upsert that only replaces
 * an older row (`WHERE show_snapshots.log_seq < EXCLUDED.log_seq`), so concurrent or late
 * writers can never move a show backwards; the row lock of the upsert orders them.
 * The pool belongs to the caller.
 */
export class PostgresSnapshotStore implements SnapshotStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly opts: PostgresSnapshotStoreOptions = {},
  ) {}

  async save(snapshot: Snapshot): Promise<boolean> {
    // Text before the first await, so the row is the state at exactly `logSeq`.
    const text = JSON.stringify(snapshot.state);
    let replaced: number | null;
    try {
      // `prev` reads the row as it was when the statement started: under a concurrent save it
      // may name an older snapshot than the one replaced, which only makes the hook do less.
      const r = await this.pool.query<{ prev_seq: string | null }>(
        `WITH prev AS (SELECT log_seq FROM show_snapshots WHERE show_id = $1)
         INSERT INTO show_snapshots (show_id, version, log_seq, state, updated_at)
         VALUES ($1, $2, $3, $4::jsonb, now())
         ON CONFLICT (show_id) DO UPDATE
           SET version = EXCLUDED.version, log_seq = EXCLUDED.log_seq, state = EXCLUDED.state, updated_at = now()
           WHERE show_snapshots.log_seq < EXCLUDED.log_seq
         RETURNING (SELECT log_seq FROM prev) AS prev_seq`,
        [snapshot.showId, snapshot.version, snapshot.logSeq, text],
      );
      if (r.rowCount !== 1) return false;
      const prev = r.rows[0]?.prev_seq;
      replaced = prev === null || prev === undefined ? null : Number(prev);
    } catch (err) {
      throw pgFailure(err, 'snapshot save');
    }
    if (replaced !== null && this.opts.afterReplace) await this.opts.afterReplace(snapshot.showId, replaced, snapshot.logSeq);
    return true;
  }

  async load(showId: string): Promise<Snapshot | null> {
    try {
      const r = await this.pool.query<{ version: string; log_seq: string; state: unknown }>(
        'SELECT version, log_seq, state FROM show_snapshots WHERE show_id = $1',
        [showId],
      );
      const row = r.rows[0];
      return row ? { showId, version: Number(row.version), logSeq: Number(row.log_seq), state: row.state } : null;
    } catch (err) {
      throw pgFailure(err, 'snapshot load');
    }
  }

  async delete(showId: string): Promise<void> {
    try {
      await this.pool.query('DELETE FROM show_snapshots WHERE show_id = $1', [showId]);
    } catch (err) {
      throw pgFailure(err, 'snapshot delete');
    }
  }

  async close(): Promise<void> {}
}
