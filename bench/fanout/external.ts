import { createClient } from '../../src/client/index.ts';
import type { SeatOps } from './load.ts';

const ROWS = 50;
const SEATS_PER_ROW = 100;

/** Creates a fresh show on a running gateway (admin HTTP API) for the bench; returns its id and labels. */
export async function createExternalShow(url: string, adminToken: string): Promise<{ id: string; labels: string[] }> {
  const id = `fanout-${Date.now().toString(36)}`;
  const rows = Array.from({ length: ROWS }, (_, r) => ({ label: `R${r + 1}`, seats: SEATS_PER_ROW, category: 'std' }));
  await createClient({ url, adminToken }).createShow({
    id,
    title: 'Fan-out bench',
    city: 'Pune',
    venue: 'Stadium',
    startsAt: '2026-12-01T19:30:00+05:30',
    categories: [{ id: 'std', price: 10000, currency: 'INR' }],
    layout: { sections: [{ id: 'main', rows }] },
  });
  return { id, labels: rows.flatMap((r) => Array.from({ length: r.seats }, (_, k) => `${r.label}-${k + 1}`)) };
}

/** Seat changes over the HTTP API of a running gateway (one attempt each: the load keeps its own pace). */
export function externalOps(url: string, showId: string): SeatOps {
  const seats = createClient({ url, attempts: 1 });
  return {
    hold: async (label) => {
      const h = await seats.hold(showId, { seats: [label] });
      return { holdId: h.holdId, holdToken: h.holdToken };
    },
    release: (holdId, holdToken) => seats.release(showId, holdId, holdToken),
  };
}
