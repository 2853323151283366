import { Histogram } from '../../testkit/histogram.ts';
import type { SeatClient } from '../../src/client/index.ts';
import { outcome, type Outcome } from './client.ts';
import { layoutFlipBody, randomSeat, type SoakShow } from './shows.ts';

/**
 * The soak's load: closed-loop clients that hold seats and then confirm, release or
 * abandon the hold (so the server expires it after its short TTL), an admin that cancels
 * the oldest bookings so the shows never sell out, and a layout changer that adds or
 * removes a row now and then. Counts every call by kind and outcome.
 */

export interface ChurnOptions {
  clients: number;
  /** Share of holds sent to the big show; the rest go to a random small show. */
  bigShare: number;
  holdTtlSeconds: number;
  /** Of the granted holds: confirmed, released; the rest are abandoned and expire. */
  confirmShare: number;
  releaseShare: number;
  /** Live bookings kept; above this the oldest is cancelled (seats back to available). */
  maxLiveBookings: number;
  layoutEveryMs: number;
}

export type OpKind = 'hold' | 'confirm' | 'release' | 'cancelBooking' | 'layout';

export class ChurnStats {
  ops: Record<OpKind, number> = { hold: 0, confirm: 0, release: 0, cancelBooking: 0, layout: 0 };
  /** `<kind>:<outcome>` → count; outcome `ok` or the error code. */
  outcomes = new Map<string, number>();
  abandoned = 0;
  /** Hold latency of the current sample interval (reset by the sampler). */
  interval = new Histogram();
  all = new Histogram();

  record(kind: OpKind, code: string | null, ms: number): void {
    this.ops[kind]++;
    const key = `${kind}:${code ?? 'ok'}`;
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
    if (kind === 'hold') {
      this.interval.recordMs(ms);
      this.all.recordMs(ms);
    }
  }

  total(): number {
    return Object.values(this.ops).reduce((a, b) => a + b, 0);
  }
}

/** A tiny seeded PRNG (mulberry32) so two runs send the same mix. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function runChurn(
  api: SeatClient,
  big: SoakShow,
  small: SoakShow[],
  opts: ChurnOptions,
  stats: ChurnStats,
  stopped: () => boolean,
): Promise<void> {
  const bookings: Array<{ showId: string; bookingId: string }> = [];
  const timed = async <T>(kind: OpKind, call: () => Promise<T>): Promise<Outcome<T>> => {
    const t0 = performance.now();
    const r = await outcome(call());
    stats.record(kind, r.code, performance.now() - t0);
    return r;
  };

  const client = async (seed: number) => {
    const rnd = prng(seed);
    while (!stopped()) {
      const show = rnd() < opts.bigShare || small.length === 0 ? big : small[Math.floor(rnd() * small.length)];
      // Half the holds name seats (conflicts happen), half ask for the best two together.
      const seat = randomSeat(show, rnd);
      const body =
        rnd() < 0.5 && seat.n < show.perRow
          ? { seats: [`R${seat.row}-${seat.n}`, `R${seat.row}-${seat.n + 1}`], ttlSeconds: opts.holdTtlSeconds }
          : { count: 2, category: 'std', ttlSeconds: opts.holdTtlSeconds };
      const held = await timed('hold', () => api.hold(show.id, body));
      if (!held.value) continue;
      const { holdId, holdToken } = held.value;
      const r = rnd();
      if (r < opts.confirmShare) {
        const c = await timed('confirm', () => api.confirm(show.id, holdId, holdToken));
        if (c.value) bookings.push({ showId: show.id, bookingId: c.value.bookingId });
        while (bookings.length > opts.maxLiveBookings) {
          const b = bookings.shift()!;
          await timed('cancelBooking', () => api.cancelBooking(b.showId, b.bookingId));
        }
      } else if (r < opts.confirmShare + opts.releaseShare) {
        await timed('release', () => api.release(show.id, holdId, holdToken));
      } else {
        stats.abandoned++;
      }
    }
  };

  const layoutChanger = async () => {
    const rnd = prng(7);
    let n = 0;
    while (!stopped()) {
      await new Promise((r) => setTimeout(r, opts.layoutEveryMs));
      if (stopped()) break;
      // Every other change is the big show's: its PATCH carries the stadium layout.
      const show = n++ % 2 === 0 || small.length === 0 ? big : small[Math.floor(rnd() * small.length)];
      const r = await timed('layout', () => api.changeShow(show.id, layoutFlipBody(show)));
      if (r.code === null) show.extra = !show.extra;
    }
  };

  return Promise.all([...Array.from({ length: opts.clients }, (_, i) => client(1000 + i)), layoutChanger()]).then(() => undefined);
}
