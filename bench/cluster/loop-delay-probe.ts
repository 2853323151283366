/**
 * Preloaded into a cluster process (NODE_OPTIONS="--import tsx --import <this file>") to
 * record how long its event loop was blocked: every stall of at least
 * LOOP_DELAY_PROBE_MIN_MS (default 50) is appended to LOOP_DELAY_PROBE_FILE as one JSON line
 * `{"node","endedAt","stallMs"}` (epoch ms), written at once so a killed process loses none.
 * A bench reads the file back and attributes each stall to the phase it overlapped
 * (readStalls / worstStall). Only for benches: it changes nothing in the process it watches.
 */
import { appendFileSync, readFileSync } from 'node:fs';

const TICK_MS = 10;

export interface Stall {
  node: string;
  endedAt: number;
  stallMs: number;
}

const file = process.env.LOOP_DELAY_PROBE_FILE;
if (file) {
  const minMs = Number(process.env.LOOP_DELAY_PROBE_MIN_MS ?? 50);
  const node = process.env.NODE_ID ?? String(process.pid);
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    // A tick due TICK_MS after the last one that ran late by this much: the loop was busy.
    const stallMs = now - last - TICK_MS;
    last = now;
    if (stallMs >= minMs) appendFileSync(file, `${JSON.stringify({ node, endedAt: Date.now(), stallMs: Math.round(stallMs) })}\n`);
  }, TICK_MS).unref();
}

/** Every stall recorded in `path` so far. */
export function readStalls(path: string): Stall[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Stall);
}

/** The longest stall that overlapped [from, to] (epoch ms), on any node; 0 when none. */
export function worstStall(stalls: Stall[], from: number, to: number): { stallMs: number; node: string } {
  let worst = { stallMs: 0, node: '' };
  for (const s of stalls)
    if (s.endedAt >= from && s.endedAt - s.stallMs <= to && s.stallMs > worst.stallMs) worst = { stallMs: s.stallMs, node: s.node };
  return worst;
}
