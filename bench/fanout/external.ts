import type { SeatOps } from './load.ts';

const ROWS = 50;
const SEATS_PER_ROW = 100;

/** Creates a fresh show on a running gateway (admin HTTP API) for the bench; returns its id and labels. */
export async function createExternalShow(url: string, adminToken: string): Promise<{ id: string; labels: string[] }> {
  const id = `fanout-${Date.now().toString(36)}`;
  const rows = Array.from({ length: ROWS }, (_, r) => ({ label: `R${r + 1}`, seats: SEATS_PER_ROW, category: 'std' }));
  const res = await fetch(`${url}/v1/shows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      id,
      title: 'Fan-out bench',
      city: 'Pune',
      venue: 'Stadium',
      startsAt: '2026-12-01T19:30:00+05:30',
      categories: [{ id: 'std', price: 10000, currency: 'INR' }],
      layout: { sections: [{ id: 'main', rows }] },
    }),
  });
  if (res.status !== 201) throw new Error(`creating the bench show failed: ${res.status} ${await res.text()}`);
  return { id, labels: rows.flatMap((r) => Array.from({ length: r.seats }, (_, k) => `${r.label}-${k + 1}`)) };
}

/** Seat changes over the HTTP API of a running gateway. */
export function externalOps(url: string, showId: string): SeatOps {
  return {
    hold: async (label) => {
      const res = await fetch(`${url}/v1/shows/${showId}/holds`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ seats: [label] }),
      });
      const body = (await res.json()) as { holdId: string; holdToken: string };
      if (res.status !== 201) throw new Error(`hold: ${res.status}`);
      return { holdId: body.holdId, holdToken: body.holdToken };
    },
    release: async (holdId, holdToken) => {
      const res = await fetch(`${url}/v1/shows/${showId}/holds/${holdId}`, { method: 'DELETE', headers: { 'hold-token': holdToken } });
      await res.arrayBuffer();
      if (res.status !== 204) throw new Error(`release: ${res.status}`);
    },
  };
}
