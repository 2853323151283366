import { open } from 'node:fs/promises';

/** Flips every bit of `length` bytes at `position`: damage a checksum must catch. */
export async function garble(path: string, position: number, length: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, position);
    for (let i = 0; i < length; i++) buf[i] ^= 0xa5;
    await fh.write(buf, 0, length, position);
  } finally {
    await fh.close();
  }
}
