import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Naming of the embedded log's segment files. Segments are numbered from 1 and named so
 * that they sort by number; the single `events.log` of earlier versions is segment 0, read
 * (and appended to, until it is full) like any other, so an upgrade loses nothing.
 */
export const LEGACY_LOG_FILE = 'events.log';
const SEGMENT_RE = /^events-(\d{6,})\.log$/;

export function segmentFileName(n: number): string {
  return n === 0 ? LEGACY_LOG_FILE : `events-${String(n).padStart(6, '0')}.log`;
}

export function segmentNumberOf(name: string): number | null {
  if (name === LEGACY_LOG_FILE) return 0;
  const m = SEGMENT_RE.exec(name);
  return m ? Number(m[1]) : null;
}

/** Segment numbers present in `dir`, ascending. */
export async function listSegments(dir: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir(dir)) {
    const n = segmentNumberOf(name);
    if (n !== null) out.push(n);
  }
  return out.sort((a, b) => a - b);
}

/** One open segment file; `end` is the length of its verified, committed content. */
export interface Segment {
  n: number;
  name: string;
  path: string;
  fh: FileHandle;
  end: number;
  /** Starts with a checkpoint of every show's position, so the segments before it may be deleted. */
  checkpointed: boolean;
  /** Batches written to it (a segment holding only its checkpoint is never rolled over). */
  batches: number;
}

export async function openSegment(dir: string, n: number, flags: 'r+' | 'wx+'): Promise<Segment> {
  const name = segmentFileName(n);
  const path = join(dir, name);
  return { n, name, path, fh: await open(path, flags), end: 0, checkpointed: false, batches: 0 };
}

export async function writeFully(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
