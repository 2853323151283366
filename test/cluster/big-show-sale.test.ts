import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CLIENT_CHANNEL_OPTIONS } from '../../src/gateway/grpc/server-options.ts';
import type { ShowCancelledOut } from '../../src/projections/out-events.ts';
import { OUT_SUBJECTS } from '../../src/subjects.ts';
import { adminMetadata, call, seatClient, type Client } from '../integration/grpc-harness.ts';
import { startCluster, type TestCluster } from '../../testkit/cluster.ts';
import { rowLabel, showInput } from '../../testkit/shows.ts';
import { needServices } from '../../testkit/services.ts';
import { listenToOutEvents, sellThroughGateway, type OutEventListener } from '../../testkit/big-show-sale.ts';

/**
 * A stadium sold and cancelled through a gateway: 100,000 of its 200,000 seats sold in
 * 1,000 bookings of 100 seats (bookings of one seat run at a few hundred a second through one
 * gateway on the 2-core test box; `npm run bench:cluster:big-show` sells and cancels
 * 100,000 of them), then the whole show cancelled with one admin call. The cancellation must
 * commit, answer every refund, leave every seat available, and reach other services as
 * `show.cancelled` pages that each fit the bus.
 */
const ROWS = 200;
const PER_ROW = 1_000;
const SEATS = ROWS * PER_ROW;
const BOOKINGS = 1_000;
const SEATS_PER_BOOKING = 100;
const SHOW = 'stadium-sale';

describe('a stadium sold and cancelled through a 3-worker cluster', { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let cluster: TestCluster;
  let grpc: Client;
  let listener: OutEventListener;
  before(async () => {
    cluster = await startCluster({ workers: 3, gateways: 1 });
    grpc = seatClient(cluster.gateways[0].grpc, CLIENT_CHANNEL_OPTIONS);
    listener = await listenToOutEvents(cluster);
  });
  after(async () => {
    grpc?.close();
    await listener?.close();
    await cluster?.stop();
  });

  test('100,000 seats sold, then the show cancelled: every refund answered, every seat free, show.cancelled in pages under the bus limit', async () => {
    const input = { ...showInput(SHOW, ROWS, PER_ROW), limits: { maxSeatsPerHold: SEATS_PER_BOOKING } };
    const created = await cluster.request('POST', '/v1/shows', input, { admin: true });
    assert.equal(created.status, 201, JSON.stringify(created.body).slice(0, 300));

    const seatLabel = (i: number) => `${rowLabel(Math.floor(i / PER_ROW))}-${(i % PER_ROW) + 1}`;
    const sale = await sellThroughGateway(cluster, SHOW, {
      bookings: BOOKINGS,
      seatsPerBooking: SEATS_PER_BOOKING,
      seatLabel,
      concurrency: 32,
    });
    assert.equal(sale.bookings.size, BOOKINGS);
    assert.equal(sale.seats, BOOKINGS * SEATS_PER_BOOKING);
    // Two holds still open when the show is cancelled: released, not refunded.
    const open = [];
    for (const seats of [[`${rowLabel(150)}-1`, `${rowLabel(150)}-2`], [`${rowLabel(151)}-1`]]) {
      const h = await cluster.request('POST', `/v1/shows/${SHOW}/holds`, { seats });
      assert.equal(h.status, 201);
      open.push(h.body.holdId as string);
    }
    const tally = (seats: string) => {
      const n: Record<string, number> = {};
      for (const c of seats) n[c] = (n[c] ?? 0) + 1;
      return n;
    };
    const before = await cluster.request('GET', `/v1/shows/${SHOW}?format=compact`);
    assert.deepEqual(tally(before.body.seats), { a: SEATS - sale.seats - 3, h: 3, b: sale.seats });

    const cancelled = await cluster.request('DELETE', `/v1/shows/${SHOW}`, undefined, {
      admin: true,
      headers: { 'idempotency-key': 'stadium-sale-cancel-0001' },
    });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body).slice(0, 300));
    const refunds = cancelled.body.refunds as Array<{
      bookingId: string;
      status: string;
      cancelReason: string;
      refundDue: number;
      total: number;
      seats: string[];
    }>;
    assert.equal(refunds.length, BOOKINGS);
    assert.deepEqual(new Set(refunds.map((b) => b.bookingId)), new Set(sale.bookings.keys()));
    for (const b of refunds) {
      assert.equal(b.status, 'cancelled');
      assert.equal(b.cancelReason, 'show_cancelled');
      assert.equal(b.refundDue, sale.bookings.get(b.bookingId), `the refund of ${b.bookingId} is what it cost`);
      assert.equal(b.seats.length, SEATS_PER_BOOKING);
    }
    assert.equal(
      refunds.reduce((sum, b) => sum + b.refundDue, 0),
      sale.total,
    );
    assert.deepEqual([...cancelled.body.releasedHolds].sort(), [...open].sort());

    // Committed: every seat is free and the show reads cancelled, on the compact and the full map.
    const map = await cluster.request('GET', `/v1/shows/${SHOW}?format=compact`);
    assert.equal(map.status, 200);
    assert.equal(map.body.status, 'cancelled');
    assert.deepEqual(tally(map.body.seats), { a: SEATS });
    const full = await cluster.request('GET', `/v1/shows/${SHOW}`);
    assert.equal(full.body.version, map.body.version);
    assert.equal(full.body.status, 'cancelled');
    assert.deepEqual(full.body.counts, { available: SEATS, held: 0, booked: 0, blocked: 0 });
    assert.ok((full.body.seats as Array<{ status: string }>).every((s) => s.status === 'available'));
    const hold = await cluster.request('POST', `/v1/shows/${SHOW}/holds`, { seats: [seatLabel(0)] });
    assert.equal(hold.status, 409);
    assert.equal(hold.body.error.code, 'SHOW_CANCELLED');

    // Other services hear it: one booking.cancelled per booking, and show.cancelled in pages.
    // Delivery is at least once (a retried publish or a re-activation repeats some): dedup by eventId.
    const distinct = <T extends { event: { eventId: string } }>(ms: T[]): T[] => [...new Map(ms.map((m) => [m.event.eventId, m])).values()];
    const pagesOf = () => distinct(listener.messages.filter((m) => m.event.type === 'ShowCancelled' && m.event.showId === SHOW));
    const refundsHeard = () =>
      distinct(listener.messages.filter((m) => m.subject === OUT_SUBJECTS.BookingCancelled && m.event.showId === SHOW)).length;
    await listener.until(
      () => {
        const pages = pagesOf();
        return pages.length > 0 && pages.length === (pages[0].event as ShowCancelledOut).pages && refundsHeard() === BOOKINGS;
      },
      30_000,
      'every show.cancelled page and booking.cancelled message',
    );
    const pages = pagesOf().map((m) => ({ bytes: m.bytes, event: m.event as ShowCancelledOut }));
    assert.ok(pages.length > 1, `a 100,000-seat refund list is several messages, got ${pages.length}`);
    const version = pages[0].event.version;
    assert.deepEqual(
      pages.map((p) => p.event.page).sort((a, b) => a - b),
      pages.map((_, i) => i + 1),
    );
    for (const p of pages) {
      assert.ok(p.bytes <= listener.maxPayload, `page ${p.event.page} is ${p.bytes} bytes, over the bus's ${listener.maxPayload}`);
      assert.equal(p.event.version, version);
      assert.equal(p.event.pages, pages.length);
      assert.equal(p.event.eventId, `${SHOW}:${version}:${p.event.page}`);
      assert.equal(
        p.event.refundTotal,
        p.event.refunds.reduce((sum, b) => sum + (b.refundDue ?? 0), 0),
      );
    }
    const paged = pages.flatMap((p) => p.event.refunds.map((b) => b.bookingId));
    assert.equal(paged.length, BOOKINGS, 'each refund on exactly one page');
    assert.deepEqual(new Set(paged), new Set(sale.bookings.keys()));
    assert.equal(
      pages.reduce((sum, p) => sum + p.event.refundTotal, 0),
      sale.total,
    );
    assert.deepEqual(pages.flatMap((p) => p.event.releasedHolds).sort(), [...open].sort());

    // Cancelling again over gRPC changes nothing and answers the same refunds.
    const again = await call(
      grpc,
      'CancelShow',
      { show_id: SHOW, reason: 'storm' },
      { metadata: adminMetadata(cluster.adminToken), deadline: Date.now() + 30_000 },
    );
    assert.equal(again.refunds.length, BOOKINGS);
    assert.equal(
      again.refunds.reduce((sum: number, b: { refund_due: string | number }) => sum + Number(b.refund_due), 0),
      sale.total,
    );
    assert.deepEqual(again.released_holds, []);
    assert.equal((await cluster.request('GET', `/v1/shows/${SHOW}?format=compact`)).body.version, map.body.version);
  });
});
