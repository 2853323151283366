import { median } from '../../testkit/percentile.ts';
import type { PhaseRecord } from './phase.ts';
import type { Ratios } from './report.ts';

/**
 * `--repeat N`, pure: the interleaved schedule and the aggregation of each repeat's ratios
 * into a median and a spread. Interleaving (every backend once per repeat, the order
 * rotating) spreads slow drifts of a loaded machine over all backends instead of charging
 * them to whichever ran last.
 */

/** `xs` rotated left by `k` (k may exceed the length). */
export function rotate<T>(xs: readonly T[], k: number): T[] {
  if (xs.length === 0) return [];
  const s = ((k % xs.length) + xs.length) % xs.length;
  return [...xs.slice(s), ...xs.slice(0, s)];
}

export interface ScheduledRun<B extends string, P extends string> {
  /** 1-based. */
  repeat: number;
  backend: B;
  phases: P[];
}

/** Repeat r (0-based) runs the backends rotated by r, each with the phases rotated by r. */
export function interleave<B extends string, P extends string>(
  backends: readonly B[],
  phases: readonly P[],
  repeats: number,
): ScheduledRun<B, P>[] {
  const out: ScheduledRun<B, P>[] = [];
  for (let r = 0; r < repeats; r++)
    for (const backend of rotate(backends, r)) out.push({ repeat: r + 1, backend, phases: rotate(phases, r) });
  return out;
}

export interface RatioSpread {
  /** One ratio per repeat in which both backends ran the phase, in repeat order. */
  values: number[];
  median: number | null;
  min: number | null;
  max: number | null;
  /** (max − min) / median, in percent; null with fewer than two values. */
  spreadPct: number | null;
}

const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;

export function spreadOf(values: readonly number[]): RatioSpread {
  if (values.length === 0) return { values: [], median: null, min: null, max: null, spreadPct: null };
  const m = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return {
    values: [...values],
    median: round(m, 2),
    min,
    max,
    spreadPct: values.length > 1 && m > 0 ? round(((max - min) / m) * 100, 1) : null,
  };
}

/** Per phase and peer, the spread of that ratio over the repeats (a null ratio — a peer that did not run — is left out). */
export function aggregateRatios(
  perRepeat: ReadonlyArray<Ratios['ratios']>,
  phases: readonly string[],
): Record<string, Record<string, RatioSpread>> {
  const out: Record<string, Record<string, RatioSpread>> = {};
  for (const phase of phases) {
    const peers = new Set(perRepeat.flatMap((r) => Object.keys(r[phase] ?? {})));
    const row: Record<string, RatioSpread> = {};
    for (const peer of peers) {
      const values = perRepeat.map((r) => r[phase]?.[peer]).filter((v): v is number => typeof v === 'number');
      row[peer] = spreadOf(values);
    }
    out[phase] = row;
  }
  return out;
}

/** The medians of `aggregateRatios`, in the shape of a single run's `ratios`. */
export function medianRatios(spreads: Record<string, Record<string, RatioSpread>>): Ratios['ratios'] {
  return Object.fromEntries(
    Object.entries(spreads).map(([phase, row]) => [phase, Object.fromEntries(Object.entries(row).map(([peer, s]) => [peer, s.median]))]),
  );
}

/**
 * Per backend and phase, the record whose holds/s is the median of the repeats (the lower
 * middle for an even count, so it is a real run): what the table's summary, the SVG and the
 * markdown show when there are several.
 */
export function medianRecords(results: readonly PhaseRecord[]): PhaseRecord[] {
  const groups = new Map<string, PhaseRecord[]>();
  for (const r of results) {
    const key = `${r.backend}\u0000${r.phase}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()].map((g) => [...g].sort((a, b) => a.holdsPerSec - b.holdsPerSec)[(g.length - 1) >> 1]);
}

export interface GeneratorCpu {
  /** The busiest generator process in any run of the phase, as a share of one core. */
  maxShareOfCore: number;
  /** Median over the phase's runs of the generator CPU per 1,000 requests, ms. */
  medianMsPer1kOps: number | null;
  /** Generator CPU seconds summed over every run of the phase. */
  totalSec: number;
}

/** The load generator's own CPU per phase, over every backend and repeat. */
export function generatorCpuByPhase(results: readonly PhaseRecord[], phases: readonly string[]): Record<string, GeneratorCpu> {
  const out: Record<string, GeneratorCpu> = {};
  for (const phase of phases) {
    const runs = results.filter((r) => r.phase === phase);
    const perK = runs.map((r) => r.generator.cpuMsPer1kOps).filter((v): v is number => v !== null);
    out[phase] = {
      maxShareOfCore: Math.max(0, ...runs.flatMap((r) => r.generator.cpuShareOfCore)),
      medianMsPer1kOps: perK.length ? round(median(perK), 2) : null,
      totalSec: round(
        runs.reduce((a, r) => a + r.generator.cpuSec.reduce((x, y) => x + y, 0), 0),
        2,
      ),
    };
  }
  return out;
}
