import type { ShowState } from '../actors/show-state.ts';
import type { BookingView } from '../actors/types.ts';
import { ErrorCode, SeatError } from '../errors.ts';
import type { BookingStore, EventLog, LogEntry } from './ports.ts';

/**
 * A warm replica's copy as handed to the actor host. `bookings` are the bookings the copy's
 * last log entry confirmed or cancelled: only the last entry can lack its Postgres rows (an
 * owner commits a batch's rows before it appends the next batch, and a new owner repairs
 * the tail it replays before its first append), so whoever takes the copy writes them first.
 */
export interface WarmCopy {
  state: ShowState;
  seq: number;
  bookings?: BookingView[];
}

export type WarmStateSource = (showId: string) => WarmCopy | null;

/**
 * Wires a warm-state source into an actor host's log so the bookings a taken copy carries
 * are upserted by the activation's tail read, before the actor answers anything (the host
 * reads the tail right after taking the copy). Fails UNAVAILABLE, and with it the
 * activation, if Postgres refuses; the copy is gone then and the next activation is cold.
 */
export function withWarmRepair(
  log: EventLog,
  bookings: BookingStore | undefined,
  source: WarmStateSource,
): { log: EventLog; warmState: (showId: string) => { state: ShowState; seq: number } | null } {
  const pending = new Map<string, { seq: number; views: BookingView[] }>();
  const warmState = (showId: string) => {
    const copy = source(showId);
    if (copy?.bookings?.length && bookings) pending.set(showId, { seq: copy.seq, views: copy.bookings });
    return copy;
  };
  async function* read(showId: string, afterSeq: number): AsyncIterable<LogEntry> {
    const repair = pending.get(showId);
    if (repair) {
      pending.delete(showId);
      if (repair.seq === afterSeq && bookings) {
        try {
          await bookings.upsert(repair.views);
        } catch (err) {
          throw new SeatError(ErrorCode.UNAVAILABLE, 'could not write the bookings of a warm copy', {}, { cause: err });
        }
      }
    }
    yield* log.read(showId, afterSeq);
  }
  return {
    warmState,
    log: {
      append: (showId, batch, expectedLastSeq) => log.append(showId, batch, expectedLastSeq),
      read,
      lastSeq: (showId) => log.lastSeq(showId),
      showIds: () => log.showIds(),
      close: () => log.close(),
    },
  };
}
