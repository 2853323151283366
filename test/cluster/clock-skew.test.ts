import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startCluster, until, type TestCluster, type WorkerProcess } from '../../testkit/cluster.ts';
import { showInput } from '../../testkit/shows.ts';
import { needServices } from '../../testkit/services.ts';
import { SKEW_METHOD, skewedClockEnv } from '../../testkit/skewed-clock.ts';

const SKEW_MS = 30_000;
/** The slack the issue allows a deadline: a hold's lifetime is its TTL within this. */
const DEADLINE_SLACK_MS = 1_000;

async function stats(w: WorkerProcess): Promise<{ clock?: { offsetMs: number | null; skewed: boolean } }> {
  return (await fetch(`${w.url}/v1/cluster/stats`)).json() as Promise<{ clock?: { offsetMs: number | null; skewed: boolean } }>;
}

async function seatStatus(cluster: TestCluster, showId: string, seat: string): Promise<string | undefined> {
  const r = await cluster.request('GET', `/v1/shows/${showId}`);
  return (r.body.seats as Array<{ id: string; status: string }>).find((s) => s.id === seat)?.status;
}

/**
 * One clock for deadlines: a worker whose wall clock runs 30 s ahead (libfaketime, or the
 * test-only CLOCK_OFFSET_FOR_TESTS_MS where it is not installed) decides with the shared
 * clock (Redis TIME), and a worker beyond CLOCK_SKEW_MAX_MS owns no shows.
 */
describe(`one clock for deadlines (skew via ${SKEW_METHOD})`, { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster({ workers: 2, gateways: 1 });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('a worker skewed beyond the bound measures it, exports it and stays out of the ring', async () => {
    const w = await cluster.addWorker(skewedClockEnv(SKEW_MS), { waitReady: false });
    const clock = await until(async () => (await stats(w)).clock, 10_000, 'the skewed worker to measure its clock');
    assert.equal(clock.skewed, true);
    assert.ok(Math.abs((clock.offsetMs ?? 0) + SKEW_MS) < DEADLINE_SLACK_MS, `offset ${clock.offsetMs} ≈ -${SKEW_MS}`);
    assert.equal(await cluster.metric(w, 'seat_cluster_clock_skewed'), 1);
    assert.ok(Math.abs((await cluster.metric(w, 'seat_cluster_clock_offset_ms')) + SKEW_MS) < DEADLINE_SLACK_MS);
    // It heartbeats its measurements but never joins: not ready, in nobody's ring, its own included.
    assert.equal((await fetch(`${w.url}/readyz`)).status, 503);
    for (const p of [...cluster.workers.filter((x) => x.alive), ...cluster.gateways])
      assert.ok(!(await cluster.members(p)).includes(w.nodeId), `${p.nodeId} has the skewed worker in its ring`);
    assert.ok(w.output.some((l) => l.includes('clock skewed beyond the bound')));
    await cluster.killWorker(cluster.workers.indexOf(w), 'SIGTERM');
  });

  it('a hold made on a skewed owner lives its TTL and confirmedAt is not in the future', async () => {
    // Allowed to own despite the skew: its decisions must still come from the shared clock.
    const w = await cluster.addWorker({ ...skewedClockEnv(SKEW_MS), CLOCK_SKEW_MAX_MS: String(2 * SKEW_MS) });
    const showId = await until(
      async () => {
        for (let i = 0; i < 64; i++) if ((await cluster.ownerOf(`ck-${i}`)) === w.nodeId) return `ck-${i}`;
        return undefined;
      },
      10_000,
      'a show id the skewed worker owns',
    );
    assert.equal((await cluster.request('POST', '/v1/shows', showInput(showId, 2, 10), { admin: true })).status, 201);

    const ttlSeconds = 3;
    const sentAt = Date.now();
    const hold = await cluster.request('POST', `/v1/shows/${showId}/holds`, { seats: ['A-1'], ttlSeconds });
    const answeredAt = Date.now();
    assert.equal(hold.status, 201);
    const expiresAt = Date.parse(hold.body.expiresAt);
    assert.ok(
      expiresAt >= sentAt + ttlSeconds * 1000 - DEADLINE_SLACK_MS && expiresAt <= answeredAt + ttlSeconds * 1000 + DEADLINE_SLACK_MS,
      `expiresAt ${hold.body.expiresAt} is TTL from now`,
    );

    const other = await cluster.request('POST', `/v1/shows/${showId}/holds`, { seats: ['B-1'] });
    assert.equal(other.status, 201);
    const booking = await cluster.request(
      'POST',
      `/v1/shows/${showId}/holds/${other.body.holdId}/confirm`,
      {},
      { headers: { 'hold-token': other.body.holdToken } },
    );
    assert.equal(booking.status, 201);
    const read = await cluster.request('GET', `/v1/shows/${showId}/bookings/${booking.body.bookingId}`);
    assert.equal(read.status, 200);
    assert.ok(
      Date.parse(read.body.confirmedAt) <= Date.now() + DEADLINE_SLACK_MS,
      `confirmedAt ${read.body.confirmedAt} is not in the future`,
    );

    // The seat stays held until (about) the deadline and is back on sale right after it.
    const freedAt = await until(
      async () => ((await seatStatus(cluster, showId, 'A-1')) === 'available' ? Date.now() : undefined),
      15_000,
      'the hold to expire',
    );
    assert.ok(freedAt >= expiresAt - DEADLINE_SLACK_MS, `freed ${expiresAt - freedAt} ms before its deadline`);
    assert.ok(freedAt <= expiresAt + DEADLINE_SLACK_MS, `freed ${freedAt - expiresAt} ms after its deadline`);
  });
});
