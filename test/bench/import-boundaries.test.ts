import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

/**
 * Tests and benches share testkit/ and never import each other (only test/bench/, whose
 * subject is a bench, reads bench/); testkit/ imports neither.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
const SPECIFIER = /(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.(ts|mts|mjs)$/.test(name)) out.push(path);
  }
  return out;
}

/** Every relative import as `from → to`, both relative to the repository root. */
function imports(folder: string): Array<{ from: string; to: string }> {
  return sources(join(ROOT, folder)).flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(SPECIFIER)].map((m) => ({
      from: relative(ROOT, file),
      to: relative(ROOT, resolve(dirname(file), m[1])),
    })),
  );
}

const inside = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

describe('import boundaries between test/, bench/ and testkit/', () => {
  it('bench/ imports nothing from test/', () => {
    assert.deepEqual(
      imports('bench').filter((i) => inside(i.to, 'test')),
      [],
    );
  });

  it('testkit/ imports nothing from test/ or bench/', () => {
    assert.deepEqual(
      imports('testkit').filter((i) => inside(i.to, 'test') || inside(i.to, 'bench')),
      [],
    );
  });

  it('test/ imports bench/ only from test/bench/', () => {
    assert.deepEqual(
      imports('test').filter((i) => inside(i.to, 'bench') && !inside(i.from, 'test/bench')),
      [],
    );
  });

  it('finds the imports it checks', () => {
    assert.ok(imports('test').some((i) => inside(i.to, 'testkit')));
    assert.ok(imports('bench').some((i) => inside(i.to, 'testkit')));
  });
});
