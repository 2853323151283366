import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** bench/results/, next to this folder. */
export const RESULTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Where a bench named `name` writes by default: bench/results/<name>.<ext>. */
export function resultPath(name: string, ext = 'json'): string {
  return join(RESULTS_DIR, `${name}.${ext}`);
}

/** Writes JSON (pretty, newline-terminated) to `path`, creating folders. Returns the path. */
export function writeJson(path: string, data: unknown): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

export function writeText(path: string, text: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** Writes bench/results/<name>.json (or `out` when given). */
export function writeResults(name: string, data: unknown, out?: string): string {
  return writeJson(out ?? resultPath(name), data);
}
