import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient, SeatClientError, type LiveSeatMap } from '../../src/client/index.ts';
import { until } from '../../testkit/cluster.ts';
import { showInput } from '../../testkit/shows.ts';
import { spawnServer, type SpawnedServer } from '../../testkit/spawn-server.ts';

const ADMIN_TOKEN = 'client-test-admin-token-0123';

/** The typed client against a real server process, restarted under a live watch. */
describe('the typed client', () => {
  let dataDir: string;
  let server: SpawnedServer;
  const env = () => ({ DATA_DIR: dataDir, ADMIN_TOKEN, DEMO_SHOW: '0' });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seats-client-'));
    server = await spawnServer(env());
  });
  after(async () => {
    await server?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates, lists, holds, confirms, reads and cancels with typed answers and errors', async () => {
    const seats = createClient({ url: server.url, adminToken: ADMIN_TOKEN });
    const show = await seats.createShow(showInput('cl', 2, 10));
    assert.equal(show.seats.length, 20);
    assert.ok((await seats.listShows({ q: 'Dune' })).some((s) => s.id === 'cl'));
    const hold = await seats.hold('cl', { seats: ['A-2', 'A-1'] });
    assert.deepEqual(hold.seats, ['A-1', 'A-2']);
    const taken = await seats.hold('cl', { seats: ['A-1'] }).catch((err: unknown) => err);
    assert.ok(taken instanceof SeatClientError);
    assert.equal(taken.code, 'SEAT_UNAVAILABLE');
    assert.equal(taken.status, 409);
    assert.deepEqual(taken.details.seats, ['A-1']);
    const priced = await seats
      .confirm('cl', hold.holdId, hold.holdToken, { expectedTotal: hold.price.total + 1 })
      .catch((err: unknown) => err);
    assert.equal((priced as SeatClientError).code, 'PRICE_CHANGED');
    const booking = await seats.confirm('cl', hold.holdId, hold.holdToken, { expectedTotal: hold.price.total, paymentRef: 'pay-1' });
    assert.equal(booking.total, hold.price.total);
    // Only confirm hands out the booking token; a read answers the booking without it.
    const { bookingToken: _token, ...stored } = booking;
    assert.deepEqual(await seats.getBooking('cl', booking.bookingId), stored);
    assert.equal((await seats.cancelBooking('cl', booking.bookingId)).status, 'cancelled');
    const other = await seats.hold('cl', { count: 2 });
    await seats.extend('cl', other.holdId, other.holdToken, { ttlSeconds: 60 });
    await seats.release('cl', other.holdId, other.holdToken);
    assert.equal((await seats.getShow('cl')).counts.available, 20);
    const anonymous = createClient({ url: server.url });
    await assert.rejects(
      anonymous.createShow(showInput('nope')),
      (err: unknown) => err instanceof SeatClientError && err.code === 'UNAUTHENTICATED',
    );
  });

  it("covers the customer's booking, the admin's list, the report and a seat's history", async () => {
    const seats = createClient({ url: server.url, adminToken: ADMIN_TOKEN });
    await seats.createShow(showInput('own', 1, 10));
    const hold = await seats.hold('own', { seats: ['A-3'], customerId: 'c1' });
    const booking = await seats.confirm('own', hold.holdId, hold.holdToken);
    assert.equal(typeof booking.bookingToken, 'string');
    assert.equal((await seats.getBooking('own', booking.bookingId, booking.bookingToken)).bookingId, booking.bookingId);
    const forged = await seats.cancelMyBooking('own', booking.bookingId, 'x'.repeat(43)).catch((err: unknown) => err);
    assert.equal((forged as SeatClientError).code, 'FORBIDDEN');
    const mine = await seats.cancelMyBooking('own', booking.bookingId, booking.bookingToken as string);
    assert.equal(mine.status, 'cancelled');
    assert.equal(mine.refundDue, booking.total);
    const page = await seats.listBookings('own', { customerId: 'c1', status: 'cancelled' });
    assert.deepEqual(
      page.bookings.map((b) => b.bookingId),
      [booking.bookingId],
    );
    const report = await seats.getReport('own');
    assert.equal(report.sales.refunded, booking.total);
    assert.equal(report.seats.available, 10);
    const history = await seats.getSeatHistory('own', 'A-3');
    assert.deepEqual(
      history.history.map((h) => h.status),
      ['held', 'booked', 'available'],
    );
  });

  it('retries a 503 with the same Idempotency-Key: the hold is made once', async () => {
    const keys: string[] = [];
    let failFirst = true;
    const flaky: typeof fetch = async (input, init) => {
      keys.push(new Headers(init?.headers).get('idempotency-key') ?? '');
      // The server did the work but the answer was lost: a proxy answered 503 instead.
      const res = await fetch(input, init);
      if (!failFirst) return res;
      failFirst = false;
      await res.text();
      return new Response(JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'proxy' } }), {
        status: 503,
        headers: { 'retry-after': '1' },
      });
    };
    const seats = createClient({ url: server.url, adminToken: ADMIN_TOKEN, fetch: flaky });
    await seats.createShow(showInput('retry', 1, 10));
    failFirst = true;
    keys.length = 0;
    const hold = await seats.hold('retry', { count: 3 });
    assert.equal(keys.length, 2);
    assert.equal(keys[0], keys[1]);
    assert.ok(keys[0].length >= 16);
    assert.equal(hold.seats.length, 3);
    assert.equal((await seats.getShow('retry')).counts.held, 3);
  });

  it('watch hands over the live map, and reconnects and resumes after the server restarts', async () => {
    const seats = createClient({ url: server.url, adminToken: ADMIN_TOKEN, watch: { backoffMs: 100, maxBackoffMs: 500 } });
    await seats.createShow(showInput('live', 2, 10));
    const maps: LiveSeatMap[] = [];
    const live = await seats.watch('live', (m) => maps.push(m));
    try {
      assert.equal(maps[0].seats.length, 20);
      assert.ok(maps[0].seats.every((s) => s.status === 'available'));
      const statusOf = (id: string) => maps.at(-1)?.seats.find((s) => s.id === id)?.status;
      await seats.hold('live', { seats: ['B-3'] });
      await until(() => statusOf('B-3') === 'held', 10_000, 'B-3 held on the live map');

      const port = new URL(server.url).port;
      await server.kill('SIGKILL');
      await until(() => !live.connected, 10_000, 'the socket to notice');
      server = await spawnServer({ ...env(), PORT: port });
      await seats.hold('live', { seats: ['B-4'] });
      await until(() => statusOf('B-4') === 'held', 20_000, 'B-4 held after the restart');
      assert.equal(statusOf('B-3'), 'held');
      assert.ok(live.connected);
      assert.equal(live.version, maps.at(-1)?.version);
    } finally {
      live.close();
    }
  });
});
