import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FORGET_MARGIN_MS } from '../../src/actors/forgetting.ts';
import { logger } from '../../src/logger.ts';
import { openEmbeddedStorage } from '../../src/persistence/index.ts';
import { eventually } from '../durable/support.ts';
import { adminMetadata, call, createShow, failure, startHarness, type Harness } from './grpc-harness.ts';

const RETENTION_SECONDS = 60;
const HOUR = 3_600_000;

/** The customer's own booking and the admin's list over gRPC, an archived booking included (embedded storage, moved clock). */
describe('grpc: CancelMyBooking, GetBooking with a token, ListBookings', () => {
  let h: Harness;
  let dir: string;
  let clock = Date.now();
  const starts_at = new Date(Date.now() + 100 * HOUR).toISOString();

  async function book(showId: string, seats: string[], customer_id: string) {
    const hold = await call(h.client, 'Hold', { show_id: showId, seats, customer_id });
    return call(h.client, 'Confirm', { show_id: showId, hold_id: hold.hold_id, hold_token: hold.hold_token });
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seats-grpc-bookings-'));
    h = await startHarness({
      storage: await openEmbeddedStorage(dir, logger),
      clock: () => clock,
      idempotencyRetentionSeconds: RETENTION_SECONDS,
    });
    const show = await createShow(h.client, 'g-pol', 2, 10, {
      starts_at,
      cancellation_policy: {
        rules: [
          { hours_before_start: 200, refund_percent: 100 },
          { hours_before_start: 24.5, refund_percent: 40 },
        ],
      },
    });
    assert.deepEqual(show.cancellation_policy.rules, [
      { hours_before_start: 200, refund_percent: 100 },
      { hours_before_start: 24.5, refund_percent: 40 },
    ]);
    await createShow(h.client, 'g-closed', 1, 10, { starts_at, cancellation_policy: { rules: [] } });
    const plain = await createShow(h.client, 'g-list', 2, 10, { starts_at });
    assert.deepEqual(plain.cancellation_policy.rules, [{ hours_before_start: 0, refund_percent: 100 }]);
  });
  after(async () => {
    await h.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('Confirm gives a booking_token; GetBooking checks it when given', async () => {
    const b = await book('g-pol', ['A-1'], 'c1');
    assert.equal(typeof b.booking_token, 'string');
    const got = await call(h.client, 'GetBooking', { show_id: 'g-pol', booking_id: b.booking_id, booking_token: b.booking_token });
    assert.equal(got.booking_id, b.booking_id);
    assert.equal(got.booking_token, undefined);
    const wrong = await failure(call(h.client, 'GetBooking', { show_id: 'g-pol', booking_id: b.booking_id, booking_token: 'nope' }));
    assert.equal(wrong.status, grpc.status.PERMISSION_DENIED);
    assert.equal(wrong.code, 'FORBIDDEN');
    assert.equal((await call(h.client, 'GetBooking', { show_id: 'g-pol', booking_id: b.booking_id })).status, 'confirmed');
  });

  it('CancelMyBooking refunds by the policy; a wrong token is PERMISSION_DENIED; no rule: CANCELLATION_CLOSED', async () => {
    const b = await book('g-pol', ['A-2', 'A-3'], 'c2');
    const wrong = await failure(
      call(h.client, 'CancelMyBooking', { show_id: 'g-pol', booking_id: b.booking_id, booking_token: b.booking_token.slice(1) }),
    );
    assert.equal(wrong.code, 'FORBIDDEN');
    const cancelled = await call(h.client, 'CancelMyBooking', {
      show_id: 'g-pol',
      booking_id: b.booking_id,
      booking_token: b.booking_token,
    });
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.refund_due, (b.total * 40) / 100);
    assert.equal(cancelled.refund_percent, 40);

    const c = await book('g-closed', ['A-1'], 'c3');
    const closed = await failure(
      call(h.client, 'CancelMyBooking', { show_id: 'g-closed', booking_id: c.booking_id, booking_token: c.booking_token }),
    );
    assert.equal(closed.status, grpc.status.FAILED_PRECONDITION);
    assert.equal(closed.code, 'CANCELLATION_CLOSED');
  });

  it('CancelBooking (admin) takes a refund_percent', async () => {
    const b = await book('g-closed', ['A-2'], 'c4');
    const r = await call(
      h.client,
      'CancelBooking',
      { show_id: 'g-closed', booking_id: b.booking_id, refund_percent: 10 },
      { metadata: adminMetadata() },
    );
    assert.equal(r.refund_due, b.total / 10);
    const bad = await failure(
      call(
        h.client,
        'CancelBooking',
        { show_id: 'g-closed', booking_id: b.booking_id, refund_percent: 101 },
        { metadata: adminMetadata() },
      ),
    );
    assert.equal(bad.code, 'INVALID_ARGUMENT');
  });

  it('ListBookings filters and pages, archived bookings included; admin only', async () => {
    const b1 = await book('g-list', ['A-1'], 'alice');
    const b2 = await book('g-list', ['A-2'], 'bob');
    const b3 = await book('g-list', ['A-3'], 'alice');
    await call(h.client, 'CancelMyBooking', { show_id: 'g-list', booking_id: b1.booking_id, booking_token: b1.booking_token });
    // The next commit past retention and margin archives and forgets b1 (straight to the host: see http-bookings).
    clock += (RETENTION_SECONDS * 1000 + FORGET_MARGIN_MS) * 2;
    await h.node.host.execute('g-list', { type: 'hold', holdId: 'h-tick', seats: ['B-1'] });
    await eventually(() => h.node.host.read('g-list', (s) => !s.bookings.has(b1.booking_id)), 10_000, 'b1 to be forgotten');

    assert.equal((await failure(call(h.client, 'ListBookings', { show_id: 'g-list' }))).status, grpc.status.UNAUTHENTICATED);
    const all = await call(h.client, 'ListBookings', { show_id: 'g-list' }, { metadata: adminMetadata() });
    const ids = all.bookings.map((b: any) => b.booking_id);
    assert.deepEqual([...ids].sort(), [b1.booking_id, b2.booking_id, b3.booking_id].sort());
    assert.deepEqual(ids, [...ids].sort());
    assert.equal(all.next_cursor, undefined);
    assert.equal(all.bookings.find((b: any) => b.booking_id === b1.booking_id).status, 'cancelled');

    const alice = await call(
      h.client,
      'ListBookings',
      { show_id: 'g-list', customer_id: 'alice', status: 'cancelled' },
      { metadata: adminMetadata() },
    );
    assert.deepEqual(
      alice.bookings.map((b: any) => b.booking_id),
      [b1.booking_id],
    );

    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(
        h.client,
        'ListBookings',
        { show_id: 'g-list', limit: 2, ...(cursor ? { cursor } : {}) },
        { metadata: adminMetadata() },
      );
      paged.push(...page.bookings.map((b: any) => b.booking_id));
      cursor = page.next_cursor;
    } while (cursor !== undefined && paged.length < 10);
    assert.deepEqual(paged, ids);

    const bad = await failure(call(h.client, 'ListBookings', { show_id: 'g-list', status: 'gone' }, { metadata: adminMetadata() }));
    assert.equal(bad.code, 'INVALID_ARGUMENT');
  });
});
