import { formatNumber, renderMarkdownTable, renderTable, type Cell } from '../lib/table.ts';
import type { PhaseRecord } from './phase.ts';
import type { GeneratorCpu, RatioSpread } from './repeats.ts';

/** The final table and the ratios of compare.json. */

export const PEERS = [
  'postgres-row-lock',
  'redis-lua',
  'restate',
  'seat-cluster-embedded',
  'seat-cluster-cluster',
  'memory-floor',
] as const;

/** The designs a team would ship instead: the floor is compared with these. */
const FLOOR_PEERS = ['postgres-row-lock', 'redis-lua', 'restate'] as const;

const round2 = (n: number) => Math.round(n * 100) / 100;

const camel = (name: string) => `vs${name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())}`;

export interface Ratios {
  ratios: Record<string, Record<string, number | null>>;
  ratiosBasis: { backend: string | null; note: string };
}

/** holds/s of seat-cluster-durable over each peer's per phase (seat-cluster-embedded when durable did not run). */
export function computeRatios(results: PhaseRecord[], phases: string[], skipped: Array<{ backend: string; reason: string }>): Ratios {
  const ran = (b: string) => results.some((r) => r.backend === b);
  const basis = ran('seat-cluster-durable') ? 'seat-cluster-durable' : ran('seat-cluster-embedded') ? 'seat-cluster-embedded' : null;
  const why = skipped.find((s) => s.backend === 'seat-cluster-durable')?.reason;
  const note =
    basis === 'seat-cluster-durable'
      ? 'holds/s of seat-cluster-durable over the peer (null: the peer did not run this phase)'
      : basis
        ? `seat-cluster-durable did not run${why ? ` (${why})` : ''}; ratios use seat-cluster-embedded instead`
        : 'neither seat-cluster backend ran; no ratios';
  const ratios: Ratios['ratios'] = {};
  for (const phase of phases) {
    const ours = results.find((r) => r.backend === basis && r.phase === phase);
    const row: Record<string, number | null> = {};
    for (const peer of PEERS) {
      if (peer === basis) continue;
      if (peer === 'seat-cluster-embedded' && basis !== 'seat-cluster-durable') continue;
      const theirs = results.find((r) => r.backend === peer && r.phase === phase);
      row[camel(peer)] = ours && theirs && theirs.holdsPerSec > 0 ? round2(ours.holdsPerSec / theirs.holdsPerSec) : null;
    }
    // The floor over each real peer: the most any design behind the same front could show here.
    const floor = results.find((r) => r.backend === 'memory-floor' && r.phase === phase);
    if (floor)
      for (const peer of FLOOR_PEERS) {
        const theirs = results.find((r) => r.backend === peer && r.phase === phase);
        if (theirs && theirs.holdsPerSec > 0) row[camel(peer).replace(/^vs/, 'floorOver')] = round2(floor.holdsPerSec / theirs.holdsPerSec);
      }
    ratios[phase] = row;
  }
  const floorNote = results.some((r) => r.backend === 'memory-floor')
    ? '; floorOverX: holds/s of memory-floor (the same HTTP front over an in-memory map) over peer X, the bound this machine and generator put on any ratio over X'
    : '';
  return { ratios, ratiosBasis: { backend: basis, note: note + floorNote } };
}

const HEADERS = [
  'backend',
  'phase',
  'holds/s',
  'confirms/s',
  'conflicts/s',
  'hold p50 ms',
  'hold p99 ms',
  'hold p999 ms',
  'confirm p99 ms',
  'errors',
  'oversold',
  'lost',
  'cpu s/1k ops',
  'gen cpu %',
  'gen cpu ms/1k',
];

function rows(results: PhaseRecord[]): Cell[][] {
  return results.map((r) => [
    r.backend,
    r.phase,
    formatNumber(r.holdsPerSec),
    formatNumber(r.confirmsPerSec),
    formatNumber(r.conflictsPerSec),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    r.p999Ms.toFixed(2),
    r.latencyMs.confirm.p99.toFixed(2),
    r.errors,
    r.oversold,
    r.lost,
    r.cpuSecPer1kOps === null ? '-' : r.cpuSecPer1kOps.toFixed(3),
    r.generator.cpuShareOfCore.map((s) => Math.round(s * 100)).join('+'),
    r.generator.cpuMsPer1kOps === null ? '-' : r.generator.cpuMsPer1kOps.toFixed(1),
  ]);
}

export function resultTable(results: PhaseRecord[]): string {
  return renderTable(HEADERS, rows(results));
}

export function resultMarkdown(results: PhaseRecord[]): string {
  return renderMarkdownTable(HEADERS, rows(results));
}

export function progressLine(index: number, total: number, r: PhaseRecord): string {
  const gen = r.generator.cpuShareOfCore.map((s) => `${Math.round(s * 100)}%`).join('+');
  return (
    `[${index}/${total}] ${r.backend} ${r.phase}: ${formatNumber(r.holdsPerSec)} holds/s, ${formatNumber(r.confirmsPerSec)} confirms/s, ` +
    `${formatNumber(r.conflictsPerSec)} conflicts/s, hold p50/p99 ${r.p50Ms}/${r.p99Ms} ms, errors ${r.errors}, ` +
    `oversold ${r.oversold}, lost ${r.lost}, cpu ${r.cpuSecPer1kOps ?? '-'} s/1k ops, generator cpu ${gen}` +
    (r.generator.saturated ? ' (GENERATOR SATURATED)' : '')
  );
}

/** `--repeat`: per phase and peer, the median ratio, its range and spread, and the generator's CPU in that phase. */
export function ratioSpreadTable(spreads: Record<string, Record<string, RatioSpread>>, generatorCpu: Record<string, GeneratorCpu>): string {
  const rows: Cell[][] = [];
  for (const [phase, row] of Object.entries(spreads))
    for (const [peer, s] of Object.entries(row)) {
      // A peer that ran in no repeat has no ratio to show (the JSON keeps it, with nulls).
      if (s.values.length === 0) continue;
      rows.push([
        phase,
        peer,
        s.median === null ? '-' : `${s.median.toFixed(2)}×`,
        s.min === null || s.max === null ? '-' : `${s.min.toFixed(2)}–${s.max.toFixed(2)}`,
        s.spreadPct === null ? '-' : `${s.spreadPct.toFixed(1)} %`,
        s.values.length,
        `${Math.round((generatorCpu[phase]?.maxShareOfCore ?? 0) * 100)} %`,
        generatorCpu[phase]?.medianMsPer1kOps?.toFixed(1) ?? '-',
      ]);
    }
  return renderTable(['phase', 'ratio', 'median', 'min–max', 'spread', 'runs', 'gen cpu max', 'gen cpu ms/1k'], rows);
}
