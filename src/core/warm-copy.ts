import type { ShowState } from '../actors/show-state.ts';
import type { BookingView } from '../actors/types.ts';

/**
 * A warm replica's copy of a show as handed to the actor host, which takes ownership of the
 * state object. `bookings` are the bookings the copy's last log entry confirmed or cancelled:
 * only the last entry can lack its Postgres rows (an owner commits a batch's rows before it
 * appends the next batch, and a new owner repairs the tail it replays before its first
 * append), so whoever takes the copy writes them first (the host's `afterReplay`).
 */
export interface WarmCopy {
  state: ShowState;
  seq: number;
  bookings?: BookingView[];
}

/** Hands over the warm copy of a show, or null when there is none (the show loads cold). */
export type WarmCopySource = (showId: string) => WarmCopy | null;
