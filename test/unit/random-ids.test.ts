import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { RandomIds, newId } from '../../src/service/random-ids.ts';

const ID = /^h_[A-Za-z0-9_-]{22}$/;

/** Ids printed by a fresh node process, one a line. */
function idsOfAnotherProcess(count: number): string[] {
  const script = `import { newId } from './src/service/random-ids.ts'; const out = []; for (let i = 0; i < ${count}; i++) out.push(newId('h')); process.stdout.write(out.join('\\n'));`;
  const text = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return text.split('\n');
}

describe('random ids (hold and booking ids)', () => {
  it('are 128 random bits, base64url, behind the prefix, and never repeat across many pool refills', () => {
    const seen = new Set<string>();
    const n = 200_000; // ~780 refills of the 4 KiB pool
    for (let i = 0; i < n; i++) {
      const id = newId('h');
      assert.match(id, ID);
      seen.add(id);
    }
    assert.equal(seen.size, n);
  });

  it('two generators in one process share nothing', () => {
    const a = new RandomIds();
    const b = new RandomIds();
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) ids.add(a.next('b')).add(b.next('b'));
    assert.equal(ids.size, 20_000);
  });

  it('two processes draw different ids (nothing is seeded from the clock or the pid)', () => {
    const first = idsOfAnotherProcess(20_000);
    const second = idsOfAnotherProcess(20_000);
    assert.equal(first.length, 20_000);
    for (const id of first) assert.match(id, ID);
    const all = new Set([...first, ...second]);
    assert.equal(all.size, 40_000);
  });

  it('spread their bits: every base64url character shows up at every position but the last', () => {
    // 22 characters carry 128 bits: the first 21 take all 64 values, the last only 4 (2 bits).
    const perPosition = Array.from({ length: 22 }, () => new Set<string>());
    for (let i = 0; i < 20_000; i++) {
      const body = newId('h').slice(2);
      for (let p = 0; p < 22; p++) perPosition[p]!.add(body[p]!);
    }
    for (let p = 0; p < 21; p++) assert.equal(perPosition[p]!.size, 64, `position ${p}`);
    assert.equal(perPosition[21]!.size, 4);
  });
});
