/**
 * Closed-loop clients of a seat service, each holding one seat and then releasing or confirming
 * it, over and over: shared by bench/durable and bench/pipeline, so both put the same load on
 * the same seats.
 */
import type { SeatService } from '../src/service/seat-service.ts';
import { benchShowInput } from './shows.ts';

export type HoldPairWorkload = 'hold/release' | 'hold/confirm';

export interface HoldPairLayout {
  workload: HoldPairWorkload;
  /** Concurrent clients. */
  inflight: number;
  shows: number;
  /** Seats of each show, in rows R0, R1, … of `seatsPerRow`. */
  seatsPerShow: number;
  seatsPerRow: number;
}

/**
 * The seat client `c` holds at its turn `k`, or undefined when a confirming client has run out
 * of seats. Turns go round the shows; client c owns seat slots c, c + inflight, c + 2·inflight, …
 * so no two clients ask for the same seat. On one show a releasing client keeps its one seat
 * (released, it is free again) and a confirming one walks its slots (a confirmed seat stays sold).
 */
export function holdPairSeat(layout: HoldPairLayout, c: number, k: number): { showIndex: number; label: string } | undefined {
  const { workload, inflight, shows, seatsPerShow, seatsPerRow } = layout;
  const showIndex = (c + k * inflight) % shows;
  const slot = shows === 1 ? c + (workload === 'hold/confirm' ? k * inflight : 0) : Math.floor((c + k * inflight) / shows);
  if (workload === 'hold/confirm' && slot >= seatsPerShow) return undefined;
  const seat = slot % seatsPerShow;
  return { showIndex, label: `R${Math.floor(seat / seatsPerRow)}-${(seat % seatsPerRow) + 1}` };
}

/** Shows created at once while setting up a load. */
const CREATE_CHUNK = 50;

/**
 * The shows a hold-pair load runs on, `<tag>-0`, `<tag>-1`, …: one show of 800 rows (enough
 * seats that confirming clients do not run out), or `shows` shows of 2 rows.
 */
export async function createHoldPairShows(
  service: Pick<SeatService, 'createShow'>,
  tag: string,
  shows: number,
  seatsPerRow: number,
): Promise<{ showIds: string[]; seatsPerShow: number }> {
  const rowsPerShow = shows === 1 ? 800 : 2;
  const showIds = Array.from({ length: shows }, (_, i) => `${tag}-${i}`);
  for (let i = 0; i < showIds.length; i += CREATE_CHUNK)
    await Promise.all(showIds.slice(i, i + CREATE_CHUNK).map((id) => service.createShow(benchShowInput(id, rowsPerShow, seatsPerRow))));
  return { showIds, seatsPerShow: rowsPerShow * seatsPerRow };
}

export interface HoldPairClientsOptions extends Omit<HoldPairLayout, 'shows'> {
  service: Pick<SeatService, 'hold' | 'release' | 'confirm'>;
  showIds: readonly string[];
  /** `performance.now()` after which a client starts no new pair. */
  deadline: number;
  /** A hold answered SEAT_UNAVAILABLE moves on to the next turn instead of failing the run. */
  skipUnavailable?: boolean;
  /** Called with each hold's latency, then with its release's or confirm's. */
  onHold: (ms: number) => void;
  onSecond: (ms: number) => void;
}

/** Runs `inflight` clients on `showIds` until the deadline; rejects with the first unexpected error. */
export async function runHoldPairClients(opts: HoldPairClientsOptions): Promise<void> {
  const { service: s, showIds, workload, inflight, seatsPerShow, seatsPerRow, deadline } = opts;
  const layout: HoldPairLayout = { workload, inflight, shows: showIds.length, seatsPerShow, seatsPerRow };
  const client = async (c: number): Promise<void> => {
    for (let k = 0; performance.now() < deadline; k++) {
      const pick = holdPairSeat(layout, c, k);
      if (!pick) return;
      const showId = showIds[pick.showIndex] as string;
      let t0 = performance.now();
      let h: Awaited<ReturnType<typeof s.hold>>;
      try {
        h = await s.hold(showId, { seats: [pick.label] });
      } catch (err) {
        if (opts.skipUnavailable && (err as { code?: string }).code === 'SEAT_UNAVAILABLE') continue;
        throw err;
      }
      let t1 = performance.now();
      opts.onHold(t1 - t0);
      t0 = t1;
      if (workload === 'hold/release') await s.release(showId, h.holdId, h.holdToken);
      else await s.confirm(showId, h.holdId, h.holdToken, { paymentRef: `pay-${c}-${k}` });
      t1 = performance.now();
      opts.onSecond(t1 - t0);
    }
  };
  await Promise.all(Array.from({ length: inflight }, (_, c) => client(c)));
}
