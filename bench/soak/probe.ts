import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What the soak samples about the server process from outside it (Linux /proc), its data
 * directory, and its Prometheus endpoint. Every reader returns NaN/null instead of throwing,
 * so one missing figure never ends a long run.
 */

/** Resident set size of `pid`, MB (VmRSS of /proc/<pid>/status). */
export function rssMb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Open file descriptors of `pid` (entries of /proc/<pid>/fd). */
export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

export interface DiskUse {
  /** The event log: files whose top-level entry under DATA_DIR has "log" in its name (events.log, a log folder, segments). */
  logBytes: number;
  /** snapshots/ */
  snapshotBytes: number;
  /** bookings/: the archive of bookings the shows forgot (business records, kept on purpose). */
  archiveBytes: number;
  /** Everything under DATA_DIR. */
  totalBytes: number;
}

function bytesUnder(path: string): number {
  try {
    const st = statSync(path);
    if (!st.isDirectory()) return st.size;
    return readdirSync(path).reduce((sum, name) => sum + bytesUnder(join(path, name)), 0);
  } catch {
    return 0; // a file removed while we walked (snapshot rename, log compaction)
  }
}

export function diskUse(dataDir: string): DiskUse {
  const use: DiskUse = { logBytes: 0, snapshotBytes: 0, archiveBytes: 0, totalBytes: 0 };
  let names: string[] = [];
  try {
    names = readdirSync(dataDir);
  } catch {
    return use;
  }
  for (const name of names) {
    const bytes = bytesUnder(join(dataDir, name));
    use.totalBytes += bytes;
    if (name === 'LOCK') continue;
    if (/log/i.test(name)) use.logBytes += bytes;
    else if (/snapshot/i.test(name)) use.snapshotBytes += bytes;
    else if (name === 'bookings') use.archiveBytes += bytes;
  }
  return use;
}

/** Unlabelled series of a Prometheus text exposition, by name (labelled series are summed). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (Number.isFinite(v)) out.set(m[1], (out.get(m[1]) ?? 0) + v);
  }
  return out;
}

export async function scrapeMetrics(baseUrl: string): Promise<Map<string, number>> {
  try {
    const res = await fetch(new URL('/metrics', baseUrl), { signal: AbortSignal.timeout(5000) });
    return parseMetrics(await res.text());
  } catch {
    return new Map();
  }
}
