import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * Thin helpers over node:util parseArgs: every bench flag is a string or boolean there;
 * these turn strings into checked numbers and lists with a clear message on bad input.
 */

export class ArgError extends Error {
  override name = 'ArgError';
}

export function parseCli<T extends NonNullable<ParseArgsConfig['options']>>(options: T, argv = process.argv.slice(2)) {
  return parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values;
}

export function numberArg(value: string | boolean | undefined, name: string, fallback: number, min = 0): number {
  if (value === undefined || typeof value === 'boolean') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new ArgError(`--${name} must be a number >= ${min}, got "${value}"`);
  return n;
}

export function intArg(value: string | boolean | undefined, name: string, fallback: number, min = 0): number {
  const n = numberArg(value, name, fallback, min);
  if (!Number.isInteger(n)) throw new ArgError(`--${name} must be an integer, got "${String(value)}"`);
  return n;
}

/** A comma-separated list, each item checked against `allowed` when given. */
export function listArg<T extends string>(
  value: string | boolean | undefined,
  name: string,
  fallback: readonly T[],
  allowed?: readonly T[],
): T[] {
  if (value === undefined || typeof value === 'boolean') return [...fallback];
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (allowed) {
    const bad = items.filter((i) => !allowed.includes(i as T));
    if (bad.length > 0) throw new ArgError(`--${name}: unknown ${bad.join(', ')} (choose from ${allowed.join(', ')})`);
  }
  return items as T[];
}
