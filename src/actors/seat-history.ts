import { evolve } from './evolve.ts';
import { eventTime } from './idempotency.ts';
import { seatIndexOf, type SeatMap } from './seat-map.ts';
import type { ShowState } from './show-state.ts';
import { SEAT_AVAILABLE, SEAT_STATUSES, type SeatStatus, type ShowEvent } from './types.ts';

/** One change of a seat's status, as the event that made it tells. */
export interface SeatHistoryEntry {
  /** The show's version after the event. */
  version: number;
  /** Event time, ISO 8601 (absent only for events from logs older than event times). */
  at?: string;
  /** The seat's status after the event. */
  status: SeatStatus;
  holdId?: string;
  bookingId?: string;
  customerId?: string;
  /** Why a hold ended or a booking was cancelled (`expired`, `released`, `cancelled`, `layout_changed`, ...). */
  reason?: string;
}

export interface SeatHistory {
  seatId: string;
  /**
   * False when the entries do not reach back to the show's creation: the log no longer holds
   * its beginning (retention below snapshots), or the seat changed more often than a history
   * keeps (the oldest were dropped). Entries after version `since` are all there.
   */
  complete: boolean;
  since?: number;
  history: SeatHistoryEntry[];
}

/** Most entries one history keeps (the newest): a seat held and released all day stays bounded. */
export const SEAT_HISTORY_MAX_ENTRIES = 10_000;

/**
 * Follows one seat through a show's events. The events are applied to a scratch copy of the
 * show with the actor's own `evolve`, so seat indices are read in the layout of their moment
 * and layout changes move the seat exactly as they move it in the show; only the entries of
 * this seat are kept, never the events. Pure; the caller streams the log into `apply`.
 */
export class SeatHistoryScan {
  private state: ShowState | null;
  private map: SeatMap | null = null;
  /** The seat's index in `map`, undefined while the layout has no such seat. */
  private seat: number | undefined;
  private readonly entries: SeatHistoryEntry[] = [];
  /** Start of the kept entries in `entries` (dropped ones are compacted away in bulk). */
  private head = 0;
  private since: number | undefined;
  /** Whether the seat existed in any layout seen. */
  seen = false;
  /** The seat's last status seen; a seat starts available, so its first status is a change only if it is not. */
  private last: number | undefined;

  /** `start`: null to begin before ShowCreated, or a state (a snapshot) the scan begins after. */
  constructor(
    readonly seatId: string,
    start: ShowState | null,
    private readonly maxEntries = SEAT_HISTORY_MAX_ENTRIES,
  ) {
    this.state = start;
    if (start) this.since = start.version;
    this.locate();
    this.last = this.status();
  }

  apply(event: ShowEvent): void {
    const about = this.state ? detailsOf(this.state, event) : {};
    this.state = evolve(this.state, event);
    this.locate();
    const after = this.status();
    // A seat that leaves the layout keeps its last status here; coming back as it was is no change.
    if (after === undefined || after === this.last) return;
    this.last = after;
    const at = eventTime(event);
    this.push({
      version: this.state.version,
      ...(at !== undefined ? { at: new Date(at).toISOString() } : {}),
      status: SEAT_STATUSES[after],
      ...about,
    });
  }

  result(): SeatHistory {
    const history = this.entries.slice(this.head);
    return { seatId: this.seatId, complete: this.since === undefined, ...(this.since !== undefined ? { since: this.since } : {}), history };
  }

  private push(entry: SeatHistoryEntry): void {
    this.entries.push(entry);
    if (this.entries.length - this.head <= this.maxEntries) return;
    this.since = this.entries[this.head].version;
    this.head++;
    if (this.head >= this.maxEntries) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }

  private locate(): void {
    const map = this.state?.seatMap ?? null;
    if (map === this.map) return;
    this.map = map;
    this.seat = map ? seatIndexOf(map, this.seatId) : undefined;
    if (this.seat === undefined) return;
    this.seen = true;
    this.last ??= SEAT_AVAILABLE;
  }

  private status(): number | undefined {
    return this.state && this.seat !== undefined ? this.state.seatStatus[this.seat] : undefined;
  }
}

type Details = Pick<SeatHistoryEntry, 'holdId' | 'bookingId' | 'customerId' | 'reason'>;

const customer = (customerId: string | undefined) => (customerId !== undefined ? { customerId } : {});

/** Who and why, from the event and the state before it (the hold or booking it ends). */
function detailsOf(state: ShowState, event: ShowEvent): Details {
  switch (event.type) {
    case 'SeatsHeld':
      return { holdId: event.holdId, ...customer(event.customerId) };
    case 'HoldReleased':
      return { holdId: event.holdId, ...customer(state.holds.get(event.holdId)?.customerId), reason: event.reason };
    case 'HoldExpired':
      return { holdId: event.holdId, ...customer(state.holds.get(event.holdId)?.customerId), reason: 'expired' };
    case 'BookingConfirmed':
      return { holdId: event.holdId, bookingId: event.bookingId, ...customer(event.customerId) };
    case 'BookingCancelled': {
      const booking = state.bookings.get(event.bookingId);
      return {
        bookingId: event.bookingId,
        ...(booking ? { holdId: booking.holdId } : {}),
        ...customer(booking?.customerId),
        reason: event.reason,
      };
    }
    case 'ShowChanged':
      return { reason: 'layout_changed' };
    case 'ShowCreated':
    case 'HoldExtended':
    case 'SeatsBlocked':
    case 'SeatsUnblocked':
    case 'ShowCancelled':
    case 'EndedForgotten':
      return {};
    default: {
      const unreachable: never = event;
      throw new Error(`unknown event ${(unreachable as ShowEvent).type}`);
    }
  }
}
