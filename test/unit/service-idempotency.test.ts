import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { retentionMs } from '../../src/actors/idempotency.ts';
import { createSeatNode } from '../../src/node.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { showDef } from '../../testkit/shows.ts';

const logger = pino({ level: 'silent' });

function node() {
  return createSeatNode(
    { holdTokenSecret: 'k'.repeat(32), snapshotEveryEvents: 100, snapshotEveryMs: 60_000 },
    openMemoryStorage(logger),
    logger,
  );
}

describe('idempotency keys at the show (survive the gateway cache)', () => {
  it('a retried hold with the same key and request gets the same hold and token', async () => {
    const n = node();
    const { limits, offers, ...def } = showDef();
    await n.service.createShow(def);
    const first = await n.service.hold('s1', { seats: ['A-1'] }, { idempotencyKey: 'k1' });
    const again = await n.service.hold('s1', { seats: ['A-1'] }, { idempotencyKey: 'k1' });
    assert.equal(again.holdId, first.holdId);
    assert.equal(again.holdToken, first.holdToken);
    await n.close();
  });

  it('the same key with another request is refused, never answered with the first caller’s hold', async () => {
    const n = node();
    const { limits, offers, ...def } = showDef();
    await n.service.createShow(def);
    await n.service.hold('s1', { seats: ['A-1'] }, { idempotencyKey: 'shared' });
    await assert.rejects(n.service.hold('s1', { seats: ['A-2'] }, { idempotencyKey: 'shared' }), { code: 'IDEMPOTENCY_MISMATCH' });
    const seat = (await n.service.getShow('s1')).seats.find((s) => s.id === 'A-2');
    assert.equal(seat?.status, 'available');
    await n.close();
  });

  it('a confirm key reused for another hold books that other hold', async () => {
    const n = node();
    const { limits, offers, ...def } = showDef();
    await n.service.createShow(def);
    const a = await n.service.hold('s1', { seats: ['A-1'] });
    const b = await n.service.hold('s1', { seats: ['A-2'] });
    const ba = await n.service.confirm('s1', a.holdId, a.holdToken, {}, { idempotencyKey: 'c' });
    const bb = await n.service.confirm('s1', b.holdId, b.holdToken, {}, { idempotencyKey: 'c' });
    assert.notEqual(bb.bookingId, ba.bookingId);
    assert.deepEqual(bb.seats, ['A-2']);
    await assert.rejects(n.service.confirm('s1', b.holdId, a.holdToken, {}), { code: 'FORBIDDEN' });
    await n.close();
  });

  it("every keyed command keeps its key at the show for the context's idempotencyKeepSeconds, else the show's retention", async () => {
    const n = node();
    const { limits, offers, ...def } = showDef();
    await n.service.createShow(def);
    let k = 0;
    const short = () => ({ idempotencyKey: `short-${k++}`, idempotencyKeepSeconds: 90 });
    const t0 = Date.now();
    const a = await n.service.hold('s1', { seats: ['A-1'] }, short());
    await n.service.extendHold('s1', a.holdId, a.holdToken, 1200, short());
    const booking = await n.service.confirm('s1', a.holdId, a.holdToken, {}, short());
    const b = await n.service.hold('s1', { seats: ['A-2'] }, short());
    await n.service.release('s1', b.holdId, b.holdToken, short());
    await n.service.blockSeats('s1', ['B-1'], short());
    await n.service.unblockSeats('s1', ['B-1'], short());
    await n.service.changeShow('s1', { title: 'Dune, part two' }, short());
    await n.service.cancelBookings('s1', [booking.bookingId], short());
    const long = await n.service.hold('s1', { seats: ['A-3'] }, { idempotencyKey: 'long-1' });
    await n.service.cancelShow('s1', 'weather', short());
    const t1 = Date.now();
    const { records, longMs } = await n.host.read('s1', (st) => ({
      records: [...st.idempotent.values()],
      longMs: retentionMs(st.def, undefined),
    }));
    assert.equal(records.length, k + 1, `every keyed command recorded its key: ${records.map((r) => r.result.type).join(',')}`);
    const isLong = (r: (typeof records)[number]) => r.result.type === 'hold' && r.result.holdId === long.holdId;
    for (const r of records.filter((r) => !isLong(r)))
      assert.ok(r.until >= t0 + 90_000 && r.until <= t1 + 90_000, `${r.result.type} kept 90 s`);
    const kept = records.find(isLong)!.until;
    assert.ok(kept >= t0 + longMs && kept <= t1 + longMs, "a key without a keep time is kept the show's retention");
    await n.close();
  });
});
