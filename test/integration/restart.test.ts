import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnServer, type SpawnedServer } from '../../testkit/spawn-server.ts';
import { request, showBody } from '../support/start-server.ts';

const ADMIN = 'restart-admin-token-123';
const SHOW = 'restart';
const ROWS = 10;
const PER_ROW = 30;
const CLIENTS = 16;

interface Acked {
  holds: Map<string, { token: string; seats: string[] }>;
  confirms: Map<string, { bookingId: string; seats: string[] }>;
  releases: Set<string>;
  /** Holds whose confirm or release was sent; its answer may have been lost with the process. */
  attempted: Set<string>;
}

/** Clients hold two random seats, then confirm, release or keep the hold; every 2xx is recorded. */
async function load(url: string, acked: Acked, stop: { now: boolean }, onAck: () => void): Promise<void> {
  const client = async () => {
    while (!stop.now) {
      const r = Math.floor(Math.random() * ROWS);
      const n = 1 + Math.floor(Math.random() * (PER_ROW - 1));
      const seats = [`${String.fromCharCode(65 + r)}-${n}`, `${String.fromCharCode(65 + r)}-${n + 1}`];
      try {
        const hold = await request(url, ADMIN, 'POST', `/v1/shows/${SHOW}/holds`, { body: { seats } });
        if (hold.status !== 201) continue;
        acked.holds.set(hold.body.holdId, { token: hold.body.holdToken, seats: hold.body.seats });
        onAck();
        const roll = Math.random();
        if (roll < 0.75) acked.attempted.add(hold.body.holdId);
        if (roll < 0.5) {
          const c = await request(url, ADMIN, 'POST', `/v1/shows/${SHOW}/holds/${hold.body.holdId}/confirm`, {
            holdToken: hold.body.holdToken,
          });
          if (c.status === 201) acked.confirms.set(hold.body.holdId, { bookingId: c.body.bookingId, seats: c.body.seats });
        } else if (roll < 0.75) {
          const d = await request(url, ADMIN, 'DELETE', `/v1/shows/${SHOW}/holds/${hold.body.holdId}`, { holdToken: hold.body.holdToken });
          if (d.status === 204) acked.releases.add(hold.body.holdId);
        }
        onAck();
      } catch {
        // the server was killed mid-request: unacknowledged, so nothing to check
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
}

describe('restart after SIGKILL (embedded storage)', () => {
  let dataDir: string;
  let server: SpawnedServer | null = null;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seats-restart-'));
  });
  after(async () => {
    if (server) await server.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged hold, confirm and release', async () => {
    const env = { DATA_DIR: dataDir, ADMIN_TOKEN: ADMIN };
    server = await spawnServer(env);
    const created = await request(server.url, ADMIN, 'POST', '/v1/shows', { admin: true, body: showBody(SHOW, {}, ROWS, PER_ROW) });
    assert.equal(created.status, 201);

    const acked: Acked = { holds: new Map(), confirms: new Map(), releases: new Set(), attempted: new Set() };
    const stop = { now: false };
    let acks = 0;
    let killed: Promise<unknown> | null = null;
    const running = load(server.url, acked, stop, () => {
      // Kill in the middle of traffic, with requests in flight.
      if (++acks === 200 && server) killed = server.kill('SIGKILL');
    });
    // Wait until the process is dead, then let clients see their connections fail.
    while (!killed) await new Promise((r) => setImmediate(r));
    assert.equal(await killed, 'SIGKILL');
    stop.now = true;
    await running;

    server = await spawnServer(env);
    const show = await request(server.url, ADMIN, 'GET', `/v1/shows/${SHOW}`);
    assert.equal(show.status, 200);
    const status = new Map<string, string>(show.body.seats.map((s: { id: string; status: string }) => [s.id, s.status]));

    // Every acknowledged confirm is a booking with its seats booked; no seat in two bookings.
    const bookedBy = new Map<string, string>();
    for (const { bookingId, seats } of acked.confirms.values()) {
      const b = await request(server.url, ADMIN, 'GET', `/v1/shows/${SHOW}/bookings/${bookingId}`);
      assert.equal(b.status, 200, `booking ${bookingId} lost`);
      assert.deepEqual(b.body.seats, seats);
      for (const seat of seats) {
        assert.equal(status.get(seat), 'booked');
        assert.ok(!bookedBy.has(seat), `seat ${seat} sold twice`);
        bookedBy.set(seat, bookingId);
      }
    }
    // Every acknowledged release stays released; every other acknowledged hold is still held,
    // and its token still works after the restart.
    for (const [holdId, hold] of acked.holds) {
      if (acked.confirms.has(holdId)) continue;
      const retry = await request(server.url, ADMIN, 'DELETE', `/v1/shows/${SHOW}/holds/${holdId}`, { holdToken: hold.token });
      if (acked.releases.has(holdId)) assert.equal(retry.status, 204);
      else if (acked.attempted.has(holdId)) {
        // Its confirm or release was in flight at the kill: either outcome is fine.
        assert.ok(retry.status === 204 || retry.body?.error?.code === 'HOLD_ALREADY_CONFIRMED', `hold ${holdId}: ${retry.status}`);
      } else {
        assert.equal(retry.status, 204);
        for (const seat of hold.seats) assert.equal(status.get(seat), 'held', `held seat ${seat} lost`);
      }
    }
    const counts = show.body.counts;
    assert.equal(counts.available + counts.held + counts.booked + counts.blocked, ROWS * PER_ROW);
    assert.ok(acked.confirms.size > 10, 'the load produced confirms before the kill');
    await server.kill('SIGTERM');
    server = null;
  });
});
