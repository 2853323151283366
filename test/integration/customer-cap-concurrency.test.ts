import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/gateway/index.ts';
import { logger } from '../../src/logger.ts';
import { request, showBody, startTestServer, type TestServer } from '../support/start-server.ts';
import { TestClient } from './ws-harness.ts';

const CAP = 5;
const CUSTOMERS = ['zoe', 'yan'];

/**
 * Many clients of two customers hold at once through two gateways and both HTTP and
 * WebSocket, retrying some requests with their idempotency keys, and confirm some holds. At
 * the end no customer has more than the cap held and booked, and the show's own count agrees
 * with its holds and bookings.
 */
describe('per-customer cap under concurrent clients, two gateways, HTTP and WebSocket', () => {
  let srv: TestServer;
  let second: Gateway;
  const sockets: TestClient[] = [];

  before(async () => {
    srv = await startTestServer();
    second = await startGateway({
      service: srv.node.service,
      config: { port: 0, host: '127.0.0.1', grpcPort: 0, maxBodyBytes: DEFAULT_MAX_BODY_BYTES },
      adminToken: srv.adminToken,
      logger,
    });
    const created = await srv.request('POST', '/v1/shows', {
      admin: true,
      body: showBody('crowd', { limits: { maxSeatsPerCustomer: CAP } }, 4, 10),
    });
    assert.equal(created.status, 201);
  });
  after(async () => {
    for (const s of sockets) s.close();
    await second.close(1_000);
    await srv.stop();
  });

  it('never lets a customer past the cap, whatever door, gateway or retry', async () => {
    const granted = new Map<string, { customerId: string; seats: number }>();
    const outcomes: string[] = [];
    const wsUrls = [srv.url, second.url].map((u) => `${u.replace('http', 'ws')}/v1/ws`);
    for (const url of wsUrls) for (let i = 0; i < 2; i++) sockets.push(await TestClient.connect(url));

    const attempt = async (i: number) => {
      const customerId = CUSTOMERS[i % CUSTOMERS.length] as string;
      const count = 1 + (i % 3);
      const key = `crowd-${i}-0123456789abcdef`;
      // Every third request is sent twice: a retry must not count twice.
      const tries = i % 3 === 0 ? 2 : 1;
      for (let t = 0; t < tries; t++) {
        if (i % 2 === 0) {
          const base = i % 4 === 0 ? srv.url : second.url;
          const res = await request(base, srv.adminToken, 'POST', '/v1/shows/crowd/holds', {
            body: { count, customerId },
            idempotencyKey: key,
          });
          if (res.status === 201) {
            granted.set(res.body.holdId, { customerId, seats: res.body.seats.length });
            if (i % 5 === 0)
              await request(base, srv.adminToken, 'POST', `/v1/shows/crowd/holds/${res.body.holdId}/confirm`, {
                holdToken: res.body.holdToken,
              });
          } else outcomes.push(res.body.error.code);
        } else {
          const socket = sockets[i % sockets.length] as TestClient;
          const f = await socket.request({ type: 'hold', showId: 'crowd', count, customerId, idempotencyKey: key });
          if (f.type === 'result') granted.set(f.holdId, { customerId, seats: f.seats.length });
          else outcomes.push(f.code);
        }
      }
    };
    await Promise.all(Array.from({ length: 40 }, (_, i) => attempt(i)));

    assert.ok(outcomes.length > 0, 'the cap refused something');
    assert.ok(
      outcomes.every((c) => c === 'HOLD_LIMIT_EXCEEDED'),
      `only cap refusals: ${[...new Set(outcomes)].join(', ')}`,
    );
    const { counts, fromRecords } = await srv.node.host.read('crowd', (s) => {
      const fromRecords = new Map<string, number>();
      for (const h of s.holds.values())
        if (h.customerId) fromRecords.set(h.customerId, (fromRecords.get(h.customerId) ?? 0) + h.seats.length);
      for (const b of s.bookings.values())
        if (b.status === 'confirmed' && b.customerId) fromRecords.set(b.customerId, (fromRecords.get(b.customerId) ?? 0) + b.seats.length);
      return { counts: new Map(s.seatsByCustomer), fromRecords };
    });
    assert.deepEqual(counts, fromRecords);
    for (const customerId of CUSTOMERS) {
      const seats = fromRecords.get(customerId) ?? 0;
      assert.ok(seats <= CAP, `${customerId} has ${seats} seats`);
      const acknowledged = [...granted.values()].filter((g) => g.customerId === customerId).reduce((n, g) => n + g.seats, 0);
      assert.equal(seats, acknowledged, `${customerId}: every acknowledged hold is counted once`);
    }
  });
});
