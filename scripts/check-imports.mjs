// Fails when src/ has an import cycle (type imports included) or a file imports from a layer
// it may not (the table in import-rules.mjs, explained in docs/architecture.md).
// Usage: node scripts/check-imports.mjs [--graph]   (--graph prints the import map too)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { checkGraph, importSpecifiers } from './import-rules.mjs';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...collect(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The file a relative specifier names: `./x.ts`, `./x.js` (built form) or a folder's index.ts. */
function resolveSpecifier(fromFile, spec) {
  const base = resolve(dirname(fromFile), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => c.endsWith('.ts') && existsSync(c)) ?? null;
}

const graph = {};
for (const file of collect(join(root, 'src'))) {
  const key = relative(root, file);
  const targets = new Set();
  for (const spec of importSpecifiers(readFileSync(file, 'utf8'))) {
    const target = resolveSpecifier(file, spec);
    if (target?.startsWith(join(root, 'src'))) targets.add(relative(root, target));
  }
  graph[key] = [...targets].sort();
}

if (process.argv.includes('--graph'))
  for (const [file, deps] of Object.entries(graph)) process.stdout.write(`${file}: ${deps.join(' ')}\n`);
const { cycles, violations } = checkGraph(graph);
for (const cycle of cycles) process.stderr.write(`import cycle: ${[...cycle, cycle[0]].join(' → ')}\n`);
for (const v of violations) process.stderr.write(`layer rule: ${v.from} (${v.fromLayer}) imports ${v.to} (${v.toLayer})\n`);
const files = Object.keys(graph).length;
const edges = Object.values(graph).reduce((n, deps) => n + deps.length, 0);
if (cycles.length || violations.length) {
  process.stderr.write(`${files} files, ${edges} imports: ${cycles.length} cycle(s), ${violations.length} layer violation(s)\n`);
  process.exit(1);
}
process.stdout.write(`imports ok: ${files} files, ${edges} imports, no cycle, no layer violation\n`);
