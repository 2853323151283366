import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { showBody, startTestServer, type TestServer } from '../support/start-server.ts';

describe('http: shows and operations', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(() => srv.stop());

  it('creates a show in the documented shape and answers 201 with the show', async () => {
    const res = await srv.request('POST', '/v1/shows', { admin: true, body: showBody('s1') });
    assert.equal(res.status, 201);
    assert.equal(res.body.id, 's1');
    assert.equal(res.body.version, 1);
    assert.equal(res.body.seats.length, 20);
    assert.deepEqual(res.body.seats[0], { id: 'A-1', category: 'gold', price: 50000, status: 'available' });
    assert.equal(res.body.limits.maxSeatsPerHold, 10);
    assert.equal(res.body.limits.holdTtlSeconds, 600);
  });

  it('answers SHOW_EXISTS for another definition under a taken id', async () => {
    const res = await srv.request('POST', '/v1/shows', { admin: true, body: showBody('s1', { title: 'Other' }) });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'SHOW_EXISTS');
  });

  it('accepts sections, firstNumber, limits, offers and blocked seats', async () => {
    const body = showBody('multi', {
      categories: [
        { id: 'gold', name: 'Gold', price: 50000, currency: 'INR' },
        { id: 'silver', price: 30000, currency: 'INR' },
      ],
      layout: {
        sections: [
          { id: 'stalls', rows: [{ label: 'A', seats: 5, category: 'silver', firstNumber: 101 }] },
          { id: 'balcony', name: 'Balcony', rows: [{ label: 'B', seats: 3, category: 'gold' }] },
        ],
      },
      limits: { maxSeatsPerHold: 4, holdTtlSeconds: 120, maxHoldSeconds: 600 },
      offers: { nthTicket: null, afternoon: { from: '12:00', to: '16:00', percentOff: 10 } },
      blockedSeats: ['balcony:B-2'],
    });
    const res = await srv.request('POST', '/v1/shows', { admin: true, body });
    assert.equal(res.status, 201);
    const ids = res.body.seats.map((s: { id: string }) => s.id);
    assert.deepEqual(ids, [
      'stalls:A-101',
      'stalls:A-102',
      'stalls:A-103',
      'stalls:A-104',
      'stalls:A-105',
      'balcony:B-1',
      'balcony:B-2',
      'balcony:B-3',
    ]);
    assert.equal(res.body.seats.find((s: { id: string }) => s.id === 'balcony:B-2').status, 'blocked');
    assert.equal(res.body.limits.maxSeatsPerHold, 4);
    assert.equal(res.body.offers.nthTicket, null);
  });

  it('gets a show with its seat map, and the compact form', async () => {
    const full = await srv.request('GET', '/v1/shows/s1');
    assert.equal(full.status, 200);
    assert.equal(full.body.title, 'Dune');
    assert.equal(full.body.seats.length, 20);
    const compact = await srv.request('GET', '/v1/shows/s1?format=compact');
    assert.equal(compact.status, 200);
    assert.equal(compact.body.showId, 's1');
    assert.equal(compact.body.seats, 'a'.repeat(20));
    assert.equal(compact.body.labels[19], 'B-10');
    const bad = await srv.request('GET', '/v1/shows/s1?format=xml');
    assert.equal(bad.body.error.code, 'INVALID_ARGUMENT');
  });

  it('answers SHOW_NOT_FOUND for an unknown show', async () => {
    const res = await srv.request('GET', '/v1/shows/nope');
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'SHOW_NOT_FOUND');
  });

  it('lists the catalog filtered by city, date and q', async () => {
    await srv.request('POST', '/v1/shows', {
      admin: true,
      body: showBody('mum1', { title: 'Oppenheimer', city: 'Mumbai', venue: 'IMAX Hall', startsAt: '2026-12-02T21:00:00+05:30' }),
    });
    const all = await srv.request('GET', '/v1/shows');
    assert.equal(all.status, 200);
    assert.deepEqual(all.body.shows.map((s: { id: string }) => s.id).sort(), ['multi', 'mum1', 's1']);
    const city = await srv.request('GET', '/v1/shows?city=mumbai');
    assert.deepEqual(
      city.body.shows.map((s: { id: string }) => s.id),
      ['mum1'],
    );
    const date = await srv.request('GET', '/v1/shows?date=2026-12-02');
    assert.deepEqual(
      date.body.shows.map((s: { id: string }) => s.id),
      ['mum1'],
    );
    const q = await srv.request('GET', '/v1/shows?q=imax&city=Mumbai');
    assert.deepEqual(
      q.body.shows.map((s: { id: string }) => s.id),
      ['mum1'],
    );
    const none = await srv.request('GET', '/v1/shows?city=Delhi');
    assert.deepEqual(none.body.shows, []);
    const page = await srv.request('GET', '/v1/shows?limit=1&offset=1');
    assert.equal(page.body.shows.length, 1);
    const badDate = await srv.request('GET', '/v1/shows?date=tomorrow');
    assert.equal(badDate.status, 400);
    assert.equal(badDate.body.error.code, 'INVALID_ARGUMENT');
    const badLimit = await srv.request('GET', '/v1/shows?limit=100000');
    assert.equal(badLimit.body.error.code, 'INVALID_ARGUMENT');
  });

  it('changes a show (admin) and bumps its version', async () => {
    const res = await srv.request('PATCH', '/v1/shows/mum1', {
      admin: true,
      body: { title: 'Oppenheimer (IMAX)', startsAt: '2026-12-03T18:00:00+05:30' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.title, 'Oppenheimer (IMAX)');
    assert.equal(res.body.version, 2);
    const listed = await srv.request('GET', '/v1/shows?date=2026-12-03');
    assert.deepEqual(
      listed.body.shows.map((s: { id: string }) => s.id),
      ['mum1'],
    );
    const empty = await srv.request('PATCH', '/v1/shows/mum1', { admin: true, body: {} });
    assert.equal(empty.status, 400);
    assert.equal(empty.body.error.code, 'INVALID_ARGUMENT');
  });

  it('keeps seat ids when a section is added: the booking on A-1 survives, the balcony is qualified', async () => {
    assert.equal((await srv.request('POST', '/v1/shows', { admin: true, body: showBody('grow') })).status, 201);
    const hold = await srv.request('POST', '/v1/shows/grow/holds', { body: { seats: ['A-1', 'A-2'] } });
    const booking = await srv.request('POST', `/v1/shows/grow/holds/${hold.body.holdId}/confirm`, {
      holdToken: hold.body.holdToken,
      body: {},
    });
    assert.equal(booking.status, 201);
    const shown = await srv.request('GET', '/v1/shows/grow');
    assert.equal(shown.body.layout.unqualifiedSection, 'main');
    // The layout as read, sent back with a section more.
    const layout = {
      ...shown.body.layout,
      sections: [...shown.body.layout.sections, { id: 'balcony', rows: [{ label: 'A', seats: 2, category: 'gold' }] }],
    };
    const refused = await srv.request('PATCH', '/v1/shows/grow', {
      admin: true,
      body: { layout: { ...layout, unqualifiedSection: 'balcony' } },
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'INVALID_ARGUMENT');
    const changed = await srv.request('PATCH', '/v1/shows/grow', { admin: true, body: { layout } });
    assert.equal(changed.status, 200);
    const after = await srv.request('GET', '/v1/shows/grow');
    const status = Object.fromEntries(after.body.seats.map((seat: { id: string; status: string }) => [seat.id, seat.status]));
    assert.deepEqual(
      [status['A-1'], status['A-2'], status['balcony:A-1'], status['main:A-1']],
      ['booked', 'booked', 'available', undefined],
    );
    const kept = await srv.request('GET', `/v1/shows/grow/bookings/${booking.body.bookingId}`, { admin: true });
    assert.deepEqual([kept.body.status, kept.body.seats], ['confirmed', ['A-1', 'A-2']]);
  });

  it('cancels a show (admin); later holds get SHOW_CANCELLED', async () => {
    const res = await srv.request('DELETE', '/v1/shows/mum1', { admin: true, body: { reason: 'projector broke' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { refunds: [], releasedHolds: [] });
    const show = await srv.request('GET', '/v1/shows/mum1');
    assert.equal(show.body.status, 'cancelled');
    const hold = await srv.request('POST', '/v1/shows/mum1/holds', { body: { seats: ['A-1'] } });
    assert.equal(hold.status, 409);
    assert.equal(hold.body.error.code, 'SHOW_CANCELLED');
    const change = await srv.request('PATCH', '/v1/shows/mum1', { admin: true, body: { title: 'Back' } });
    assert.equal(change.body.error.code, 'SHOW_CANCELLED');
  });

  it('serves liveness, readiness and metrics', async () => {
    assert.equal((await srv.request('GET', '/healthz')).status, 200);
    assert.equal((await srv.request('GET', '/readyz')).status, 200);
    const metrics = await srv.request('GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.text, /seat_commands_total\{command="createShow",outcome="ok"\} \d+/);
    assert.match(metrics.text, /seat_commands_total\{command="getShow",outcome="SHOW_NOT_FOUND"\} \d+/);
    assert.match(metrics.text, /seat_command_duration_seconds_bucket\{le="[^"]+",command="hold"\}/);
    assert.match(metrics.text, /seat_active_shows \d+/);
    assert.match(metrics.text, /seat_active_holds \d+/);
    assert.match(metrics.text, /http_requests_total\{method="GET",route="healthz",status="200"\} \d+/);
  });

  it('reports not ready while shutting down', async () => {
    srv.gateway.http.setReady(false);
    try {
      const res = await srv.request('GET', '/readyz');
      assert.equal(res.status, 503);
      assert.equal(res.body.error.code, 'UNAVAILABLE');
      assert.equal(res.headers.get('retry-after'), '1');
    } finally {
      srv.gateway.http.setReady(true);
    }
  });

  it('answers NOT_FOUND for unknown routes and METHOD_NOT_ALLOWED for wrong methods', async () => {
    for (const path of ['/v2/shows', '/v1/showsx', '/v1/shows/s1/nothing', '/v1/shows/s1/holds/h/x/y', '/']) {
      const res = await srv.request('POST', path, { body: {} });
      assert.equal(res.status, 404, path);
      assert.equal(res.body.error.code, 'NOT_FOUND', path);
    }
    const page = await srv.request('GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const missing = await srv.request('GET', '/no-such-page.js');
    assert.equal(missing.body.error.code, 'NOT_FOUND');
    const res = await srv.request('PUT', '/v1/shows/s1', { admin: true, body: {} });
    assert.equal(res.status, 405);
    assert.equal(res.body.error.code, 'METHOD_NOT_ALLOWED');
    assert.equal(res.headers.get('allow'), 'GET, PATCH, DELETE');
  });
});
