import type pg from 'pg';
import type { Snapshot, SnapshotStore } from './ports.ts';
import { pgFailure } from './postgres-pool.ts';

/**
 * Snapshots in `show_snapshots`, one row per show. `save` is an upsert that only replaces
 * an older row (`WHERE show_snapshots.log_seq < EXCLUDED.log_seq`), so concurrent or late
 * writers can never move a show backwards; the row lock of the upsert orders them.
 * The pool belongs to the caller.
 */
export class PostgresSnapshotStore implements SnapshotStore {
  constructor(private readonly pool: pg.Pool) {}

  async save(snapshot: Snapshot): Promise<boolean> {
    // Text before the first await, so the row is the state at exactly `logSeq`.
    const text = JSON.stringify(snapshot.state);
    try {
      const r = await this.pool.query(
        `INSERT INTO show_snapshots (show_id, version, log_seq, state, updated_at)
         VALUES ($1, $2, $3, $4::jsonb, now())
         ON CONFLICT (show_id) DO UPDATE
           SET version = EXCLUDED.version, log_seq = EXCLUDED.log_seq, state = EXCLUDED.state, updated_at = now()
           WHERE show_snapshots.log_seq < EXCLUDED.log_seq`,
        [snapshot.showId, snapshot.version, snapshot.logSeq, text],
      );
      return r.rowCount === 1;
    } catch (err) {
      throw pgFailure(err, 'snapshot save');
    }
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
