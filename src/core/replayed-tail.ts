import type { LogEntry } from './ports.ts';
import type { WarmCopy } from './warm-copy.ts';

/**
 * What an activation replayed to rebuild a show: the log entries after `afterSeq` (the
 * snapshot's or the warm copy's position), in order, and the warm copy it started from.
 * Given to the actor host's `afterReplay` hook, which runs before the actor serves anything.
 */
export interface ReplayedTail {
  afterSeq: number;
  entries: readonly LogEntry[];
  /** The warm copy the activation started from; null for a cold load (snapshot, or nothing). */
  warm: WarmCopy | null;
}

/** The show version after the tail's last entry; -1 when the tail is empty. */
export function lastVersionOf(tail: ReplayedTail): number {
  const last = tail.entries.at(-1);
  return last ? last.firstVersion + last.events.length - 1 : -1;
}
