import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OUT_EVENT_SCHEMAS } from '../../src/contract/out-event-schemas.ts';
import { logger } from '../../src/logger.ts';
import { openMemoryStorage, type Storage } from '../../src/persistence/index.ts';
import { showBody, startTestServer, type TestServer } from '../support/start-server.ts';
import { undescribed } from '../support/undescribed.ts';
import { until } from '../../testkit/wait.ts';

type Message = { subject: string; event: Record<string, any> };

describe('out-events: the AsyncAPI description matches what the bus carries', () => {
  let srv: TestServer;
  let storage: Storage;
  const messages: Message[] = [];

  before(async () => {
    storage = openMemoryStorage(logger);
    storage.bus.subscribe('seats.out.>', (message, subject) => {
      const event = (typeof message === 'string' ? JSON.parse(message) : message) as Record<string, any>;
      messages.push({ subject, event });
    });
    srv = await startTestServer({ storage });
  });
  after(() => srv.stop());

  it('booking confirmed and cancelled, show changed and cancelled: each on its subject, fitting its schema, nothing undescribed', async () => {
    assert.equal((await srv.request('POST', '/v1/shows', { admin: true, body: showBody('oec') })).status, 201);
    const hold = await srv.request('POST', '/v1/shows/oec/holds', { body: { seats: ['A-1'], customerId: 'c-1' } });
    const booking = await srv.request('POST', `/v1/shows/oec/holds/${hold.body.holdId}/confirm`, {
      holdToken: hold.body.holdToken,
      body: { paymentRef: 'p' },
    });
    assert.equal(booking.status, 201);
    const cancel = await srv.request('POST', `/v1/shows/oec/bookings/${booking.body.bookingId}/cancel`, {
      headers: { 'booking-token': booking.body.bookingToken },
    });
    assert.equal(cancel.status, 200);
    const second = await srv.request('POST', '/v1/shows/oec/holds', { body: { seats: ['A-2'] } });
    await srv.request('POST', `/v1/shows/oec/holds/${second.body.holdId}/confirm`, { holdToken: second.body.holdToken });
    assert.equal((await srv.request('PATCH', '/v1/shows/oec', { admin: true, body: { title: 'Renamed' } })).status, 200);
    assert.equal((await srv.request('DELETE', '/v1/shows/oec', { admin: true, body: { reason: 'rain' } })).status, 200);

    const wanted = ['BookingConfirmed', 'BookingCancelled', 'ShowChanged', 'ShowCancelled'];
    await until(() => wanted.every((t) => messages.some((m) => m.event.type === t)), 10_000, 'every kind of out-event');
    for (const { subject, event } of messages) {
      const doc = OUT_EVENT_SCHEMAS[event.type as keyof typeof OUT_EVENT_SCHEMAS];
      assert.ok(doc, `${event.type} is a described out-event`);
      assert.equal(subject, doc.subject, `${event.type} is on its described subject`);
      const parsed = doc.schema.safeParse(event);
      assert.ok(parsed.success, `${event.type}: ${parsed.success ? '' : parsed.error.message}`);
      assert.deepEqual(undescribed(doc.schema, event), [], `${event.type}: every field is described`);
    }
  });
});
