import type { HistogramJSON } from '../../testkit/histogram.ts';
import type { PhaseSpec } from './workload.ts';

/**
 * Messages between the runner and its generator processes (child_process IPC). The
 * runner owns the shows: it tells generators which show id each slot uses now, relays
 * every generator's seat news to the others, and resets a slot once it is mostly booked.
 */

export interface SlotInfo {
  slot: number;
  showId: string;
}

/** Seat indices that became taken (held/booked) or free again, for one show instance. */
export interface SeatNews {
  slot: number;
  showId: string;
  taken: number[];
  freed: number[];
}

export type ToGenerator =
  | {
      type: 'init';
      generator: number;
      url: string;
      spec: PhaseSpec;
      slots: SlotInfo[];
      connections: number;
      durationSec: number;
      /** Unmeasured load before the window (JIT, caches, connection pools warm up). */
      warmupSec: number;
      timeoutSec: number;
    }
  | { type: 'go' }
  | { type: 'switch'; slot: number; showId: string }
  | { type: 'news'; news: SeatNews[] };

/** Per show instance, since the last tick. */
export interface InstanceTick {
  showId: string;
  slot: number;
  bookedSeats: number;
  holdsOk: number;
  conflicts: number;
}

export interface OpCounts {
  holdOk: number;
  holdConflict: number;
  holdError: number;
  confirmOk: number;
  confirmError: number;
  releaseOk: number;
  releaseError: number;
}

export interface GeneratorResult {
  counts: OpCounts;
  /** "hold 503", "confirm 410", … */
  errorsByKind: Record<string, number>;
  errorSamples: string[];
  latency: { hold: HistogramJSON; confirm: HistogramJSON; release: HistogramJSON };
  /** Every 2xx confirm, warm-up included (all are checked): [showId, bookingId, seat labels]. */
  bookings: Array<[string, string, string[]]>;
  /** CPU the generator itself used while the load ran, and for how long it ran. */
  cpuMs: number;
  wallMs: number;
  autocannon: { requests: number; errors: number; timeouts: number; resets: number };
}

export type FromGenerator =
  | { type: 'ready' }
  | { type: 'tick'; instances: InstanceTick[]; news: SeatNews[] }
  | { type: 'done'; result: GeneratorResult }
  | { type: 'failed'; error: string };
