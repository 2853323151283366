/** How the load generator changes seats: in-process service calls or HTTP to a running gateway. */
export interface SeatOps {
  hold(label: string): Promise<{ holdId: string; holdToken: string }>;
  release(holdId: string, holdToken: string): Promise<void>;
}

export interface Load {
  /** Seat changes committed (each hold or release changes one seat). */
  changes(): number;
  errors(): number;
  stop(): Promise<void>;
}

/** Holds kept open at once; the oldest is released for each new one past this. */
const OPEN_HOLDS = 100;
const STEP_MS = 10;

/**
 * `ratePerSec` single-seat changes per second, evenly paced: holds walk through the labels
 * and, once OPEN_HOLDS are open, every hold is matched by the release of the oldest.
 */
export function startLoad(ops: SeatOps, labels: string[], ratePerSec: number): Load {
  const open: Array<{ holdId: string; holdToken: string }> = [];
  const inflight = new Set<Promise<void>>();
  let pendingHolds = 0;
  let cursor = 0;
  let issued = 0;
  let changes = 0;
  let errors = 0;
  const started = performance.now();
  const track = (p: Promise<void>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  const hold = () => {
    pendingHolds++;
    const label = labels[cursor++ % labels.length];
    track(
      ops.hold(label).then(
        (h) => {
          pendingHolds--;
          open.push(h);
          changes++;
        },
        () => {
          pendingHolds--;
          errors++;
        },
      ),
    );
  };
  const release = () => {
    const h = open.shift() as { holdId: string; holdToken: string };
    track(
      ops.release(h.holdId, h.holdToken).then(
        () => void changes++,
        () => void errors++,
      ),
    );
  };
  const timer = setInterval(() => {
    const due = Math.floor((ratePerSec * (performance.now() - started)) / 1000) - issued;
    for (let i = 0; i < due; i++, issued++) {
      // Full: release the oldest; then the next op holds again, so they alternate.
      if (open.length > 0 && open.length + pendingHolds >= OPEN_HOLDS) release();
      else hold();
    }
  }, STEP_MS);
  return {
    changes: () => changes,
    errors: () => errors,
    stop: async () => {
      clearInterval(timer);
      await Promise.allSettled([...inflight]);
    },
  };
}
