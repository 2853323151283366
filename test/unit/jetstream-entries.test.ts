import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { ShowEvent } from '../../src/actors/types.ts';
import { SeatError } from '../../src/errors.ts';
import {
  EntryAssembler,
  PART_HEADER_ALLOWANCE_BYTES,
  decodeBatch,
  planParts,
  type StoredBatch,
} from '../../src/persistence/jetstream-entries.ts';

/** Events that do not gzip away (random hold ids). */
function expiries(n: number, idBytes = 24): ShowEvent[] {
  return Array.from({ length: n }, (_, i) => ({ type: 'HoldExpired', holdId: randomBytes(idBytes).toString('base64url'), seats: [i] }));
}

describe('splitting a batch into log messages', () => {
  const MAX = 16 * 1024;

  it('keeps a batch that fits as one message', () => {
    const stored: StoredBatch = { batchId: 'b', firstVersion: 7, events: expiries(20) };
    const parts = planParts(stored, MAX, 8);
    assert.equal(parts.length, 1);
    assert.deepEqual(decodeBatch(parts[0]), stored);
  });

  it('splits one that does not into parts under the limit that continue each other', () => {
    const stored: StoredBatch = { batchId: 'b', firstVersion: 7, events: expiries(2000) };
    const parts = planParts(stored, MAX, 64);
    assert.ok(parts.length > 1);
    let version = 7;
    const events: ShowEvent[] = [];
    for (const p of parts) {
      assert.ok(p.length <= MAX - PART_HEADER_ALLOWANCE_BYTES);
      const d = decodeBatch(p);
      assert.equal(d.batchId, 'b');
      assert.equal(d.firstVersion, version);
      version += d.events.length;
      events.push(...d.events);
    }
    assert.deepEqual(events, stored.events);
  });

  it('refuses with INVALID_ARGUMENT one event too big for a message, or more parts than allowed', () => {
    const isInvalid = (err: unknown) => err instanceof SeatError && err.code === 'INVALID_ARGUMENT' && !err.retryable;
    assert.throws(() => planParts({ batchId: 'b', firstVersion: 1, events: expiries(1, 3 * MAX) }, MAX, 64), isInvalid);
    assert.throws(() => planParts({ batchId: 'b', firstVersion: 1, events: expiries(2000) }, MAX, 2), isInvalid);
  });
});

describe('reassembling parts', () => {
  const part = (index: number, count: number, head = 0) => ({ index, count, head });
  const stored = (batchId: string, firstVersion: number, n: number): StoredBatch => ({ batchId, firstVersion, events: expiries(n) });

  it('gives a whole batch at once and a group at its last part, as one entry at that seq', () => {
    const a = new EntryAssembler();
    assert.equal(a.push('s', 10, stored('x', 1, 2), null)?.events.length, 2);
    const p0 = stored('g', 3, 4);
    const p1 = stored('g', 7, 5);
    assert.equal(a.push('s', 11, p0, part(0, 2)), null);
    assert.deepEqual(a.unfinished('s'), { batchId: 'g', firstVersion: 3, lastSeq: 11 });
    const entry = a.push('s', 12, p1, part(1, 2, 11));
    assert.deepEqual(entry && [entry.seq, entry.firstVersion, entry.batchId], [12, 3, 'g']);
    assert.deepEqual(entry?.events, [...p0.events, ...p1.events]);
    assert.equal(a.unfinished('s'), null);
  });

  it('drops an unfinished group when something else follows it, and never applies a headless tail', () => {
    const a = new EntryAssembler();
    assert.equal(a.push('s', 1, stored('dead', 1, 3), part(0, 3)), null);
    const next = a.push('s', 2, stored('next', 1, 1), null);
    assert.equal(next?.batchId, 'next');
    assert.equal(a.push('s', 3, stored('dead', 4, 3), part(1, 3, 1)), null, 'the rest of a dropped group is not applied');
    assert.equal(a.push('s', 4, stored('dead', 7, 3), part(2, 3, 1)), null);
    // Another show's parts do not disturb this one's.
    assert.equal(a.push('s', 5, stored('g', 2, 1), part(0, 2)), null);
    assert.equal(a.push('t', 6, stored('h', 1, 1), null)?.batchId, 'h');
    assert.equal(a.push('s', 7, stored('g', 3, 1), part(1, 2, 5))?.events.length, 2);
  });
});
