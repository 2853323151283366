import { labelOf, seatIndexOf } from './seat-map.ts';
import type { ShowState } from './show-state.ts';
import { SEAT_STATUSES, type SeatStatus, type ShowEvent } from './types.ts';

/** What watchers of a show learn from one committed batch. */
export interface SeatDelta {
  showId: string;
  /** The version before the batch; a watcher at any other version has a gap. */
  fromVersion: number;
  version: number;
  layoutVersion: number;
  showStatus: ShowState['status'];
  /** Every seat whose status the batch touched, with its status after the batch. */
  changes: Array<[string, SeatStatus]>;
  /** The layout or prices changed: watchers must fetch a fresh snapshot. */
  resync: boolean;
}

/** Derives the seat delta of a committed batch from its events and the state after it. Pure. */
export function seatDelta(state: ShowState, fromVersion: number, events: readonly ShowEvent[]): SeatDelta {
  const touched = new Set<number>();
  const labels: string[] = [];
  let resync = false;
  for (const e of events) {
    switch (e.type) {
      case 'SeatsHeld':
      case 'HoldReleased':
      case 'HoldExpired':
      case 'BookingConfirmed':
      case 'SeatsBlocked':
      case 'SeatsUnblocked':
        for (const s of e.seats) touched.add(s);
        break;
      case 'BookingCancelled':
        labels.push(...(state.bookings.get(e.bookingId)?.seats ?? []));
        break;
      case 'ShowCreated':
      case 'ShowChanged':
        resync = true;
        break;
      case 'HoldExtended':
      case 'ShowCancelled':
      case 'EndedForgotten':
        break;
      default: {
        const unreachable: never = e;
        throw new Error(`unknown event ${(unreachable as ShowEvent).type}`);
      }
    }
  }
  const { seatMap, seatStatus } = state;
  const changes: Array<[string, SeatStatus]> = [];
  if (!resync) {
    for (const label of labels) {
      const s = seatIndexOf(seatMap, label);
      if (s !== undefined) touched.add(s);
    }
    for (const s of touched) changes.push([labelOf(seatMap, s), SEAT_STATUSES[seatStatus[s]]]);
  }
  return {
    showId: state.def.id,
    fromVersion,
    version: state.version,
    layoutVersion: state.layoutVersion,
    showStatus: state.status,
    changes,
    resync,
  };
}
