import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openEmbeddedStorage } from '../../src/persistence/index.ts';
import { silentLogger, tempDir } from '../persistence/temp-dir.ts';
import { showBody, startTestServer, type TestServer } from '../support/start-server.ts';

/** Two sections so seat ids carry their section (`main:A-3`), two categories. */
const LAYOUT = {
  categories: [
    { id: 'gold', price: 50000, currency: 'INR' },
    { id: 'silver', price: 20000, currency: 'INR' },
  ],
  layout: {
    sections: [
      { id: 'main', rows: [{ label: 'A', seats: 10, category: 'gold' }] },
      { id: 'balcony', rows: [{ label: 'C', seats: 6, category: 'silver' }] },
    ],
  },
};

describe('http: reports and seat history (embedded storage, snapshots every few events)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let srv: TestServer;
  const start = async () =>
    startTestServer({ storage: await openEmbeddedStorage(dir.path, silentLogger), logger: silentLogger, node: { snapshotEveryEvents: 2 } });

  before(async () => {
    dir = await tempDir('seats-reports-');
    srv = await start();
    assert.equal((await srv.request('POST', '/v1/shows', { admin: true, body: showBody('rep', LAYOUT) })).status, 201);
  });
  after(async () => {
    await srv.stop();
    await dir.remove();
  });

  const book = async (seats: string[], customerId: string) => {
    const hold = await srv.request('POST', '/v1/shows/rep/holds', { body: { seats, customerId } });
    assert.equal(hold.status, 201);
    const booked = await srv.request('POST', `/v1/shows/rep/holds/${hold.body.holdId}/confirm`, { holdToken: hold.body.holdToken });
    assert.equal(booked.status, 201);
    return booked.body;
  };

  it('reports seats per category and section and sales; admin only', async () => {
    const b1 = await book(['main:A-3', 'balcony:C-1'], 'c1');
    const b2 = await book(['main:A-4'], 'c2');
    assert.equal((await srv.request('POST', `/v1/shows/rep/bookings/${b1.bookingId}/cancel`, { admin: true })).status, 200);
    await srv.request('POST', '/v1/shows/rep/holds', { body: { seats: ['balcony:C-2'] } });

    assert.equal((await srv.request('GET', '/v1/shows/rep/report')).status, 401);
    const res = await srv.request('GET', '/v1/shows/rep/report', { admin: true });
    assert.equal(res.status, 200);
    const zero = { available: 0, held: 0, booked: 0, blocked: 0 };
    assert.deepEqual(res.body.seats, { ...zero, available: 14, held: 1, booked: 1 });
    assert.deepEqual(res.body.categories, {
      gold: { ...zero, available: 9, booked: 1, price: 50000 },
      silver: { ...zero, available: 5, held: 1, price: 20000 },
    });
    assert.deepEqual(res.body.sections, { main: { ...zero, available: 9, booked: 1 }, balcony: { ...zero, available: 5, held: 1 } });
    assert.deepEqual(res.body.sales, {
      bookings: 1,
      seats: 1,
      gross: b1.total + b2.total,
      refunded: b1.total,
      net: b2.total,
      currency: 'INR',
    });

    const missing = await srv.request('GET', '/v1/shows/nope/report', { admin: true });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'SHOW_NOT_FOUND');
  });

  it("reads a seat's history oldest first: held, booked, available", async () => {
    for (const path of ['/v1/shows/rep/seats/main:A-3/history', '/v1/shows/rep/seats/main%3AA-3/history']) {
      const res = await srv.request('GET', path, { admin: true });
      assert.equal(res.status, 200);
      assert.equal(res.body.seatId, 'main:A-3');
      assert.equal(res.body.complete, true);
      assert.deepEqual(
        res.body.history.map((e: { status: string }) => e.status),
        ['held', 'booked', 'available'],
      );
      assert.equal(res.body.history[1].customerId, 'c1');
      assert.equal(res.body.history[2].reason, 'cancelled');
    }
    assert.equal((await srv.request('GET', '/v1/shows/rep/seats/main:A-3/history')).status, 401);
    const unknown = await srv.request('GET', '/v1/shows/rep/seats/main:Z-1/history', { admin: true });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'NOT_FOUND');
    const bad = await srv.request('GET', '/v1/shows/rep/seats/a%20b/history', { admin: true });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'INVALID_ARGUMENT');
  });

  it('answers the same report and history after a restart from snapshots', async () => {
    const report = (await srv.request('GET', '/v1/shows/rep/report', { admin: true })).body;
    const history = (await srv.request('GET', '/v1/shows/rep/seats/main:A-3/history', { admin: true })).body;
    await srv.stop();
    srv = await start();
    assert.deepEqual((await srv.request('GET', '/v1/shows/rep/report', { admin: true })).body, report);
    assert.deepEqual((await srv.request('GET', '/v1/shows/rep/seats/main:A-3/history', { admin: true })).body, history);
  });
});
