import { SeatHistoryScan, type SeatHistory } from '../actors/seat-history.ts';
import { deserializeState, type SerializedState } from '../actors/state-codec.ts';
import { ErrorCode, SeatError } from '../errors.ts';
import type { EventLog, SnapshotStore } from '../core/ports.ts';

/**
 * Reads one seat's history from a show's event log, streaming: one log entry in memory at a
 * time, plus a scratch copy of the show. The log is bounded by retention (the embedded log
 * deletes segments below every show's snapshot; JetStream purges a show's subject below its
 * previous snapshot): when it no longer starts at the show's creation, the scan starts from
 * the newest snapshot instead and the history says so (`complete: false`, `since`).
 */
export async function readSeatHistory(
  sources: { log: EventLog; snapshots: SnapshotStore },
  showId: string,
  seatId: string,
): Promise<SeatHistory> {
  let scan: SeatHistoryScan | null = null;
  try {
    for await (const entry of sources.log.read(showId, 0)) {
      if (!scan) {
        if (entry.firstVersion !== 1 || entry.events[0]?.type !== 'ShowCreated') break;
        scan = new SeatHistoryScan(seatId, null);
      }
      for (const e of entry.events) scan.apply(e);
    }
  } catch (err) {
    // A log whose retained start is the middle of a split entry refuses a read from 0.
    if (scan) throw err;
  }
  scan ??= await fromSnapshot(sources, showId, seatId);
  if (!scan.seen) throw new SeatError(ErrorCode.NOT_FOUND, `no seat ${seatId} in this show`, { seats: [seatId] });
  return scan.result();
}

/** The scan from the newest snapshot and the log after it: what retention left. */
async function fromSnapshot(
  sources: { log: EventLog; snapshots: SnapshotStore },
  showId: string,
  seatId: string,
): Promise<SeatHistoryScan> {
  const snapshot = await sources.snapshots.load(showId);
  if (!snapshot) throw new SeatError(ErrorCode.SHOW_NOT_FOUND, 'no such show');
  const scan = new SeatHistoryScan(seatId, deserializeState(snapshot.state as SerializedState));
  for await (const entry of sources.log.read(showId, snapshot.logSeq)) for (const e of entry.events) scan.apply(e);
  return scan;
}
