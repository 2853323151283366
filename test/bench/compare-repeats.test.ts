import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PhaseRecord } from '../../bench/compare/phase.ts';
import {
  aggregateRatios,
  generatorCpuByPhase,
  interleave,
  medianRatios,
  medianRecords,
  rotate,
  spreadOf,
} from '../../bench/compare/repeats.ts';
import { computeRatios } from '../../bench/compare/report.ts';

/** bench:compare --repeat's pure parts: the interleaved order and the median/spread of each ratio. */

function record(
  backend: string,
  phase: string,
  holdsPerSec: number,
  gen: { share: number; cpuSec: number; perK: number | null } = { share: 0.1, cpuSec: 1, perK: 5 },
): PhaseRecord {
  return {
    backend,
    phase,
    holdsPerSec,
    generator: {
      processes: 1,
      connections: 4,
      cpuShareOfCore: [gen.share],
      cpuSec: [gen.cpuSec],
      cpuMsPer1kOps: gen.perK,
      saturated: false,
    },
  } as PhaseRecord;
}

describe('bench:compare --repeat', () => {
  it('rotates backends and phases by one each repeat, every pair once per repeat', () => {
    assert.deepEqual(rotate(['a', 'b', 'c'], 4), ['b', 'c', 'a']);
    const s = interleave(['x', 'y', 'z'], ['p', 'q'], 3);
    assert.deepEqual(
      s.map((r) => `${r.repeat}:${r.backend}:${r.phases.join('')}`),
      ['1:x:pq', '1:y:pq', '1:z:pq', '2:y:qp', '2:z:qp', '2:x:qp', '3:z:pq', '3:x:pq', '3:y:pq'],
    );
  });

  it('gives the median, min, max and spread % of each ratio over the repeats, leaving out repeats where the peer did not run', () => {
    const perRepeat = [
      { 'hot-show': { vsRedisLua: 2.0, vsPostgresRowLock: 10 }, spread: { vsRedisLua: 0.5, vsPostgresRowLock: null } },
      { 'hot-show': { vsRedisLua: 2.4, vsPostgresRowLock: 12 }, spread: { vsRedisLua: 0.6, vsPostgresRowLock: 4 } },
      { 'hot-show': { vsRedisLua: 1.8, vsPostgresRowLock: 11 }, spread: { vsRedisLua: 0.4, vsPostgresRowLock: null } },
    ];
    const agg = aggregateRatios(perRepeat, ['hot-show', 'spread']);
    assert.deepEqual(agg['hot-show'].vsRedisLua, { values: [2.0, 2.4, 1.8], median: 2.0, min: 1.8, max: 2.4, spreadPct: 30 });
    assert.deepEqual(agg['hot-show'].vsPostgresRowLock, { values: [10, 12, 11], median: 11, min: 10, max: 12, spreadPct: 18.2 });
    assert.deepEqual(agg.spread.vsRedisLua, { values: [0.5, 0.6, 0.4], median: 0.5, min: 0.4, max: 0.6, spreadPct: 40 });
    // One run only: a median but no spread.
    assert.deepEqual(agg.spread.vsPostgresRowLock, { values: [4], median: 4, min: 4, max: 4, spreadPct: null });
    assert.deepEqual(medianRatios(agg), {
      'hot-show': { vsRedisLua: 2, vsPostgresRowLock: 11 },
      spread: { vsRedisLua: 0.5, vsPostgresRowLock: 4 },
    });
  });

  it('puts the memory floor over each shipped design beside our ratios, and only where both ran', () => {
    const results = [
      record('seat-cluster-durable', 'hot-show', 300),
      record('redis-lua', 'hot-show', 200),
      record('postgres-row-lock', 'hot-show', 50),
      record('memory-floor', 'hot-show', 500),
      record('seat-cluster-durable', 'spread', 100),
      record('redis-lua', 'spread', 300),
    ];
    const { ratios, ratiosBasis } = computeRatios(results, ['hot-show', 'spread'], []);
    assert.equal(ratios['hot-show']?.vsRedisLua, 1.5);
    assert.equal(ratios['hot-show']?.vsMemoryFloor, 0.6);
    assert.equal(ratios['hot-show']?.floorOverRedisLua, 2.5);
    assert.equal(ratios['hot-show']?.floorOverPostgresRowLock, 10);
    assert.equal('floorOverRestate' in (ratios['hot-show'] ?? {}), false);
    assert.equal(ratios.spread?.vsMemoryFloor, null);
    assert.equal('floorOverRedisLua' in (ratios.spread ?? {}), false);
    assert.match(ratiosBasis.note, /floorOverX/);
  });

  it('takes the mean of the two middle ratios for an even number of repeats', () => {
    assert.deepEqual(spreadOf([1, 3, 2, 4]), { values: [1, 3, 2, 4], median: 2.5, min: 1, max: 4, spreadPct: 120 });
    assert.deepEqual(spreadOf([]), { values: [], median: null, min: null, max: null, spreadPct: null });
  });

  it('shows per backend and phase the run with the median holds/s, and sums the generator CPU per phase', () => {
    const runs = [
      record('a', 'p', 300, { share: 0.2, cpuSec: 2, perK: 6 }),
      record('a', 'p', 100, { share: 0.1, cpuSec: 1, perK: 4 }),
      record('a', 'p', 200, { share: 0.4, cpuSec: 3, perK: 5 }),
      record('b', 'p', 50, { share: 0.3, cpuSec: 1.5, perK: null }),
      record('b', 'p', 70, { share: 0.1, cpuSec: 0.5, perK: 9 }),
    ];
    assert.deepEqual(
      medianRecords(runs).map((r) => `${r.backend}:${r.holdsPerSec}`),
      ['a:200', 'b:50'],
    );
    assert.deepEqual(generatorCpuByPhase(runs, ['p', 'q']), {
      p: { maxShareOfCore: 0.4, medianMsPer1kOps: 5.5, totalSec: 8 },
      q: { maxShareOfCore: 0, medianMsPer1kOps: null, totalSec: 0 },
    });
  });
});
