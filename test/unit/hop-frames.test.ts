import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { FrameAssembler, partHeaders, splitPayload } from '../../src/cluster/hop-frames.ts';

const parted = (msgId: string, data: Uint8Array, limit: number) => {
  const parts = splitPayload(data, limit);
  return parts.map((p, i) => ({ headers: parts.length > 1 ? partHeaders(msgId, i, parts.length) : undefined, data: p }));
};

describe('hop frames', () => {
  test('every part fits the limit, and parts in any order and interleaved rebuild every payload', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 3000 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 700 }),
        fc.infiniteStream(fc.nat()),
        (payloads, limit, order) => {
          const asm = new FrameAssembler({ maxBytes: 1 << 30, maxAgeMs: 60_000 });
          const frames = payloads.flatMap((p, i) => parted(`m${i}`, p, limit).map((f) => ({ ...f, i })));
          for (const f of frames) assert.ok(f.data.length <= limit || payloads[f.i].length === 0);
          // Shuffle with the stream of numbers.
          const it = order[Symbol.iterator]();
          const shuffled = [...frames];
          for (let k = shuffled.length - 1; k > 0; k--) {
            const j = it.next().value % (k + 1);
            [shuffled[k], shuffled[j]] = [shuffled[j], shuffled[k]];
          }
          const got = new Map<number, Uint8Array[]>();
          for (const f of shuffled) {
            const whole = asm.add(f.headers, f.data);
            if (whole) got.set(f.i, [...(got.get(f.i) ?? []), whole]);
          }
          for (let i = 0; i < payloads.length; i++) assert.deepEqual(Buffer.from(got.get(i)![0]), Buffer.from(payloads[i]));
          // Each payload comes back exactly once, and nothing is left held.
          for (const list of got.values()) assert.equal(list.length, 1);
          assert.equal(asm.unfinished, 0);
        },
      ),
    );
  });

  test('an unfinished message is dropped when the memory bound is reached, oldest first', () => {
    const dropped: string[] = [];
    const asm = new FrameAssembler({ maxBytes: 250, maxAgeMs: 60_000, onDrop: (id, reason) => dropped.push(`${id}:${reason}`) });
    const a = parted('a', new Uint8Array(300), 100);
    const b = parted('b', new Uint8Array(300), 100);
    assert.equal(asm.add(a[0].headers, a[0].data), null);
    assert.equal(asm.add(a[1].headers, a[1].data), null);
    assert.equal(asm.add(b[0].headers, b[0].data), null);
    assert.deepEqual(dropped, ['a:memory']);
    assert.equal(asm.unfinished, 1);
    assert.equal(asm.add(b[1].headers, b[1].data), null);
    assert.equal(asm.add(b[2].headers, b[2].data)?.length, 300);
  });

  test('malformed part headers are refused', () => {
    const dropped: string[] = [];
    const asm = new FrameAssembler({ maxBytes: 1000, maxAgeMs: 60_000, onDrop: (id, reason) => dropped.push(`${id}:${reason}`) });
    assert.equal(asm.add(partHeaders('x', 3, 2), new Uint8Array(4)), null);
    assert.deepEqual(dropped, ['x:malformed']);
    assert.equal(asm.unfinished, 0);
  });
});
