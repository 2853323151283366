import * as zlib from 'node:zlib';

/**
 * CRC-32 (IEEE, as zlib and gzip use) of a byte range. Node 22 ships a native `zlib.crc32`;
 * Node 20 does not, so a table-driven fallback computes the same value.
 */
export const crc32: (data: Uint8Array) => number = nativeCrc32() ?? tableCrc32;

function nativeCrc32(): ((data: Uint8Array) => number) | null {
  const fn = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;
  return typeof fn === 'function' ? (data) => fn(data) >>> 0 : null;
}

/** Slicing-by-8 tables: T[k][n] is the CRC of byte n followed by k zero bytes (~3x a plain table). */
const T = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k][n] = (t[0][t[k - 1][n] & 0xff] ^ (t[k - 1][n] >>> 8)) >>> 0;
  return t;
})();

export function tableCrc32(data: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = T;
  let c = 0xffffffff;
  let i = 0;
  for (const end8 = data.length - 7; i < end8; i += 8) {
    const lo = (c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
    c =
      t7[lo & 0xff] ^
      t6[(lo >>> 8) & 0xff] ^
      t5[(lo >>> 16) & 0xff] ^
      t4[lo >>> 24] ^
      t3[data[i + 4]] ^
      t2[data[i + 5]] ^
      t1[data[i + 6]] ^
      t0[data[i + 7]];
  }
  for (; i < data.length; i++) c = t0[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
