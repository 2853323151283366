import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createSeatNode } from '../../src/node.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { showDef } from '../support/fixtures.ts';

const logger = pino({ level: 'silent' });

function node() {
  return createSeatNode({ holdTokenSecret: 'k'.repeat(32), snapshotEveryEvents: 100, snapshotEveryMs: 60_000 }, openMemoryStorage(logger), logger);
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
    const ba = await n.service.confirm('s1', a.holdId, a.holdToken, undefined, { idempotencyKey: 'c' });
    const bb = await n.service.confirm('s1', b.holdId, b.holdToken, undefined, { idempotencyKey: 'c' });
    assert.notEqual(bb.bookingId, ba.bookingId);
    assert.deepEqual(bb.seats, ['A-2']);
    await assert.rejects(n.service.confirm('s1', b.holdId, a.holdToken, undefined), { code: 'FORBIDDEN' });
    await n.close();
  });
});
