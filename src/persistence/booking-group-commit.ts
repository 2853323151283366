/**
 * Group commit of booking rows across shows, apart from Postgres: callers submit rows,
 * statements go out through a writer function. While `statementsInFlight` statements run,
 * new callers wait and are merged, whatever their show, into the next statement when one
 * returns. An idle queue writes a lone call at once (no timer: the statement in flight is the
 * commit window), so batching grows with load and costs nothing without it.
 *
 * Each caller is answered when the statement carrying its rows commits; a failed statement
 * fails exactly the callers whose rows it carried. A caller's rows never straddle two
 * groups: a caller larger than one statement goes alone, and the writer splits it inside
 * one transaction.
 */

/** A row ready to send: its key (one row per key in a statement) and its JSON text. */
export interface EncodedRow {
  key: string;
  json: string;
}

export interface GroupLimits {
  /** Rows in one merged statement, at most. */
  maxRows: number;
  /** JSON bytes of one merged statement's rows, at most. */
  maxBytes: number;
}

/** One caller's rows, waiting for a statement. */
export interface PendingCall {
  rows: EncodedRow[];
  bytes: number;
  /** Written in a statement of its own (after a merged statement was refused). */
  alone: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * The callers at the head of `pending` that go out together: the first, then the next ones
 * while the statement stays within `limits` (a first caller over the limits goes alone).
 * Removes them from `pending`. Pure: no I/O, no clock.
 */
export function takeGroup(pending: PendingCall[], limits: GroupLimits): PendingCall[] {
  const first = pending.shift();
  if (!first) return [];
  const group = [first];
  if (first.alone) return group;
  let rows = first.rows.length;
  let bytes = first.bytes;
  while (pending.length) {
    const next = pending[0];
    if (next.alone || rows + next.rows.length > limits.maxRows || bytes + next.bytes > limits.maxBytes) break;
    rows += next.rows.length;
    bytes += next.bytes;
    group.push(pending.shift() as PendingCall);
  }
  return group;
}

/** The group's rows, one per key, the latest caller's winning (ON CONFLICT touches a row once per statement). */
export function rowsOfGroup(group: readonly PendingCall[]): EncodedRow[] {
  if (group.length === 1) return uniqueRows(group[0].rows);
  const byKey = new Map<string, EncodedRow>();
  for (const call of group) for (const r of call.rows) byKey.set(r.key, r);
  return [...byKey.values()];
}

/** The rows, one per key, the later winning. */
export function uniqueRows(rows: EncodedRow[]): EncodedRow[] {
  const keys = new Set<string>();
  for (const r of rows) keys.add(r.key);
  if (keys.size === rows.length) return rows;
  const byKey = new Map<string, EncodedRow>();
  for (const r of rows) byKey.set(r.key, r);
  return [...byKey.values()];
}

/** Cuts rows into runs that each fit one statement (rows and bytes), in order. */
export function chunkRows(rows: EncodedRow[], limits: GroupLimits): EncodedRow[][] {
  const chunks: EncodedRow[][] = [];
  let current: EncodedRow[] = [];
  let bytes = 0;
  for (const r of rows) {
    const size = Buffer.byteLength(r.json);
    if (current.length && (current.length >= limits.maxRows || bytes + size > limits.maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

export interface GroupCommitOptions extends GroupLimits {
  /** Statements running at once; callers beyond wait and share the next one. */
  statementsInFlight: number;
  /** Writes the rows (one statement, or several in one transaction when over the limits). */
  write: (rows: EncodedRow[]) => Promise<void>;
  /**
   * Whether a failed merged statement is retried caller by caller: true when the server
   * refused the rows themselves, so one bad caller fails only itself. An outage fails the
   * whole group (trying each alone would only fail each again).
   */
  retryAlone: (err: unknown) => boolean;
  /** Maps the error a caller is rejected with. */
  failure: (err: unknown) => unknown;
}

/**
 * The queue and its pump. Safe to call concurrently; `submit` resolves once its rows are
 * committed and rejects when the statement carrying them failed.
 */
export class BookingGroupCommit {
  private readonly pending: PendingCall[] = [];
  private running = 0;

  constructor(private readonly opts: GroupCommitOptions) {}

  submit(rows: EncodedRow[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    let bytes = 0;
    for (const r of rows) bytes += Buffer.byteLength(r.json);
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ rows, bytes, alone: false, resolve, reject });
      this.pump();
    });
  }

  /** Callers waiting for a statement (not counting those in flight). */
  get waiting(): number {
    return this.pending.length;
  }

  private pump(): void {
    while (this.running < this.opts.statementsInFlight && this.pending.length) {
      const group = takeGroup(this.pending, this.opts);
      this.running++;
      this.opts
        .write(rowsOfGroup(group))
        .then(
          () => {
            for (const p of group) p.resolve();
          },
          (err: unknown) => {
            if (group.length > 1 && this.opts.retryAlone(err)) this.pending.unshift(...group.map((p) => ({ ...p, alone: true })));
            else {
              const failure = this.opts.failure(err);
              for (const p of group) p.reject(failure);
            }
          },
        )
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }
}
