import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BACKENDS } from '../../bench/compare/backends.ts';
import { PHASES } from '../../bench/compare/workload.ts';
import { needServices } from '../../testkit/services.ts';

/**
 * bench:compare end to end on a tiny workload: every backend runs every phase (or is
 * listed as skipped with its reason) and the correctness check finds nothing oversold
 * or lost. The numbers themselves are not asserted.
 */

/** A safety net, not a speed check: 18 phases plus six backends' setup take ~100 s on a quiet box, far more on a loaded one. */
const RUN_TIMEOUT_MS = 300_000;

interface CompareJson {
  machine: { cpus: number };
  startedAt: string;
  results: Array<{
    backend: string;
    phase: string;
    holdsPerSec: number;
    oversold: number;
    lost: number;
    cpuSecPer1kOps: number | null;
    generator: { cpuSec: number[] };
  }>;
  skipped: Array<{ backend: string; phase?: string; reason: string }>;
  ratios: Record<string, Record<string, number | null>>;
  ratiosBasis: { backend: string | null; note: string };
  generatorCheck: { verdict: string };
  generatorCpu: Record<string, { totalSec: number }>;
  failed: unknown[];
}

function runCompare(out: string): Promise<{ code: number | null; output: string }> {
  const args = [
    '--import',
    'tsx',
    'bench/compare/run.ts',
    '--quick',
    '--duration',
    '1',
    '--connections',
    '4',
    '--generators',
    '1',
    '--hot-seats',
    '200',
    '--spread-shows',
    '5',
    '--spread-seats',
    '50',
    '--best-seats',
    '200',
    '--verify-sample',
    '200',
    '--out',
    out,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`bench:compare did not finish in ${RUN_TIMEOUT_MS / 1000} s:\n${output.slice(-3000)}`));
    }, RUN_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('bench:compare --quick', async () => {
  const skip = await needServices('postgres', 'redis');
  const dir = mkdtempSync(join(tmpdir(), 'bench-compare-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reports every backend and phase, or why a backend was skipped, with nothing oversold or lost', {
    skip,
    timeout: RUN_TIMEOUT_MS + 10_000,
  }, async () => {
    const out = join(dir, 'compare.json');
    const { code, output } = await runCompare(out);
    assert.equal(code, 0, `bench:compare exited ${code}:\n${output.slice(-3000)}`);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as CompareJson;
    assert.ok(doc.machine.cpus >= 1);
    assert.ok(!Number.isNaN(Date.parse(doc.startedAt)));

    for (const backend of BACKENDS) {
      const whole = doc.skipped.find((s) => s.backend === backend && !s.phase);
      if (whole) {
        assert.ok(whole.reason.length > 0, `${backend} skipped without a reason`);
        continue;
      }
      for (const phase of PHASES) {
        const r = doc.results.find((x) => x.backend === backend && x.phase === phase);
        const failed = doc.skipped.find((s) => s.backend === backend && s.phase === phase);
        assert.ok(r, `${backend}/${phase} missing: ${failed?.reason ?? 'no result and no reason'}`);
        assert.equal(r.oversold, 0, `${backend}/${phase} oversold`);
        assert.equal(r.lost, 0, `${backend}/${phase} lost`);
        assert.equal(typeof r.holdsPerSec, 'number');
      }
    }
    // Postgres and Redis are up (or this test was skipped), so those baselines must have run.
    for (const backend of ['postgres-row-lock', 'redis-lua', 'seat-cluster-embedded'])
      assert.ok(
        doc.results.some((r) => r.backend === backend),
        `${backend} did not run: ${JSON.stringify(doc.skipped)}`,
      );
    for (const phase of PHASES) assert.ok(doc.ratios[phase], `ratios for ${phase}`);
    assert.ok(doc.ratiosBasis.note.length > 0);
    assert.ok(doc.generatorCheck.verdict.length > 0);
    assert.deepEqual(doc.failed, []);
    for (const r of doc.results)
      assert.ok(r.generator.cpuSec.length > 0 && r.generator.cpuSec.every((s) => s >= 0), `${r.backend}/${r.phase} generator cpu`);
    for (const phase of PHASES) assert.ok(doc.generatorCpu[phase].totalSec > 0, `generator cpu for ${phase}`);
    assert.match(readFileSync(join(dir, 'compare.svg'), 'utf8'), /^<svg /);
  });
});
