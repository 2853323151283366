import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { crc32, tableCrc32 } from '../../src/persistence/file-checksum.ts';

/** Bit-at-a-time CRC-32: slow and obviously right. */
function reference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32', () => {
  it('matches the standard check value', () => {
    assert.equal(tableCrc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(tableCrc32(new Uint8Array(0)), 0);
  });

  it('matches a bitwise reference at every length around the 8-byte stride', () => {
    for (let len = 0; len < 100; len++) {
      const data = randomBytes(len);
      assert.equal(tableCrc32(data), reference(data), `length ${len}`);
    }
    const offset = randomBytes(64).subarray(3, 50);
    assert.equal(tableCrc32(offset), reference(offset));
  });
});
