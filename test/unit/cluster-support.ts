import { routeRetries } from '../../src/cluster/cluster-metrics.ts';

/** Routed-op retries counted so far for `reason` (an error code). */
export async function retriesFor(reason: string): Promise<number> {
  const m = await routeRetries.get();
  return m.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/** A small seeded generator (mulberry32), so a failing interleaving can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const showIds = (n: number, prefix = 's'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
