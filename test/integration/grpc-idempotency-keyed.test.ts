import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminMetadata, call, createShow, failure, startHarness, type Harness } from './grpc-harness.ts';

/**
 * gRPC has no response cache in front of the service: every retry below is answered by the
 * record the show keeps under the key.
 */
describe('grpc: every keyed call answers a retry with its first reply and changes nothing', () => {
  let h: Harness;
  const SHOW = 'g-keyed';
  let n = 0;
  const key = (name: string) => `${name}-${n++}-0123456789abcdef`;
  const version = async () => (await h.node.service.getSeatMap(SHOW)).version;

  async function twice(method: string, req: Record<string, unknown>, admin = false): Promise<any> {
    const opts = admin ? { metadata: adminMetadata() } : {};
    const first = await call(h.client, method, req, opts);
    const v = await version();
    const again = await call(h.client, method, req, opts);
    assert.deepEqual(again, first, method);
    assert.equal(await version(), v, `${method}: the retry changed nothing`);
    return first;
  }

  before(async () => {
    h = await startHarness();
    await createShow(h.client, SHOW, 3, 10);
  });
  after(() => h.stop());

  it('Hold, ExtendHold, Confirm, Release, CancelBooking, CancelMyBooking, CancelShow', async () => {
    const hold = await twice('Hold', { show_id: SHOW, seats: ['A-1', 'A-2'], idempotency_key: key('hold') });
    await twice('ExtendHold', {
      show_id: SHOW,
      hold_id: hold.hold_id,
      hold_token: hold.hold_token,
      ttl_seconds: 900,
      idempotency_key: key('extend'),
    });
    const booking = await twice('Confirm', {
      show_id: SHOW,
      hold_id: hold.hold_id,
      hold_token: hold.hold_token,
      payment_ref: 'p-1',
      idempotency_key: key('confirm'),
    });
    const other = await call(h.client, 'Hold', { show_id: SHOW, seats: ['B-1'] });
    await twice('Release', { show_id: SHOW, hold_id: other.hold_id, hold_token: other.hold_token, idempotency_key: key('release') });
    const third = await call(h.client, 'Hold', { show_id: SHOW, seats: ['C-1'] });
    const b3 = await call(h.client, 'Confirm', { show_id: SHOW, hold_id: third.hold_id, hold_token: third.hold_token });
    await twice('CancelBooking', { show_id: SHOW, booking_id: b3.booking_id, refund_percent: 30, idempotency_key: key('cancel') }, true);
    await twice('CancelMyBooking', {
      show_id: SHOW,
      booking_id: booking.booking_id,
      booking_token: booking.booking_token,
      idempotency_key: key('own'),
    });
    const live = await call(h.client, 'Hold', { show_id: SHOW, seats: ['A-9'] });
    const cancelled = await twice('CancelShow', { show_id: SHOW, reason: 'storm', idempotency_key: key('cancel-show') }, true);
    assert.deepEqual(cancelled.released_holds, [live.hold_id]);
  });

  it('the same key with another request is IDEMPOTENCY_MISMATCH and changes nothing', async () => {
    await createShow(h.client, 'g-keyed-2', 3, 10);
    const k = key('hold');
    await call(h.client, 'Hold', { show_id: 'g-keyed-2', seats: ['A-1'], idempotency_key: k });
    const f = await failure(call(h.client, 'Hold', { show_id: 'g-keyed-2', seats: ['A-2'], idempotency_key: k }));
    assert.equal(f.code, 'IDEMPOTENCY_MISMATCH');
    const b = await call(h.client, 'Hold', { show_id: 'g-keyed-2', seats: ['B-1'] });
    const booking = await call(h.client, 'Confirm', { show_id: 'g-keyed-2', hold_id: b.hold_id, hold_token: b.hold_token });
    const kc = key('cancel');
    await call(
      h.client,
      'CancelBooking',
      { show_id: 'g-keyed-2', booking_id: booking.booking_id, refund_percent: 100, idempotency_key: kc },
      { metadata: adminMetadata() },
    );
    const c = await failure(
      call(
        h.client,
        'CancelBooking',
        { show_id: 'g-keyed-2', booking_id: booking.booking_id, refund_percent: 10, idempotency_key: kc },
        { metadata: adminMetadata() },
      ),
    );
    assert.equal(c.code, 'IDEMPOTENCY_MISMATCH');
    const seats = (await h.node.service.getSeatMap('g-keyed-2')).seats;
    assert.equal(seats.slice(0, 2), 'ha');
    assert.equal((await h.node.service.getBooking('g-keyed-2', booking.booking_id)).refundPercent, 100);
  });
});
