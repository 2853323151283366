/**
 * The chaos bench: the fault suite (testkit/chaos/suite.ts). Starts its own nats-server, redis-server and
 * Postgres on free ports (never the shared ones), a 3-worker cluster and a gateway, and injects
 * each fault in turn. Prints a table and writes bench/results/chaos.json. A fault whose run
 * failed, or that lost or oversold a seat, fails the bench. The command line is run.ts.
 */
import type { BenchOutcome } from '../lib/cli.ts';
import { resultPath, writeJson } from '../lib/results.ts';
import { renderMarkdownTable, renderTable, type Cell } from '../lib/table.ts';
import type { Fault } from '../../testkit/chaos/faults/index.ts';
import { runChaos, type ChaosResult, type FaultResult } from '../../testkit/chaos/suite.ts';

const HEADERS = [
  'fault',
  'acked',
  'lost',
  'oversold',
  'other',
  'wrong',
  'ok/s before',
  'ok/s during',
  'err% during',
  'hold err%',
  'confirm err%',
  'fail p50 ms',
  'recover ms',
  'confirm back ms',
  'err% after',
  'hold end off ms',
  'ring back ms',
  'notes',
];

function notesOf(f: FaultResult): string {
  const parts: string[] = [];
  if (f.error) parts.push(`run failed: ${f.error.slice(0, 80)}`);
  if (f.crashedWorkers.length) parts.push(`crashed: ${f.crashedWorkers.join(' ')}`);
  if (f.fault === 'duplicate-node-id') parts.push(f.notes.refused ? 'duplicate refused' : 'duplicate NOT refused (it ran)');
  if (f.fault === 'clock-skew') parts.push(f.notes.skewedWorkerInRing ? 'skewed worker in ring' : 'skewed worker kept out of ring');
  const unplaced = f.probes.filter((p) => p.heldAt === null).length;
  if (unplaced) parts.push(`${unplaced}/${f.probes.length} probes not placed`);
  if (f.invariants.holdDeadlines.length) parts.push(`${f.invariants.holdDeadlines.length} holds off deadline`);
  const codes = Object.entries(f.customers.codes)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, v]) => `${k}×${v}`);
  if (codes.length) parts.push(codes.join(' '));
  return parts.join('; ');
}

export function rowsOf(r: ChaosResult): Cell[][] {
  return r.faults.map((f) => [
    f.summary,
    f.acked,
    f.invariants.lost.length,
    f.invariants.oversold.length,
    f.invariants.mismatched.length,
    f.customers.wrongAnswers,
    f.customers.before.okPerSec,
    f.customers.during.okPerSec,
    f.customers.during.errorPct,
    f.customers.duringHolds.errorPct,
    f.customers.duringConfirms.errorPct,
    f.customers.failLatencyP50Ms,
    f.customers.recoverMs,
    f.customers.confirmRecoverMs,
    f.customers.after.errorPct,
    f.invariants.holdOffByMaxMs,
    f.ringBackMs,
    notesOf(f),
  ]);
}

export interface ChaosBenchOptions {
  faults: Fault[];
  customers: number;
  shows: number;
  settleMs: number;
  out?: string | undefined;
}

export async function run(opts: ChaosBenchOptions): Promise<BenchOutcome> {
  const result = await runChaos({
    faults: opts.faults,
    customers: opts.customers,
    shows: opts.shows,
    settleMs: opts.settleMs,
    log: (m) => process.stderr.write(`${m}\n`),
  });
  const rows = rowsOf(result);
  process.stdout.write(`\n${renderTable(HEADERS, rows)}\n\n${renderMarkdownTable(HEADERS, rows)}\n`);
  const path = writeJson(opts.out ?? resultPath('chaos'), result);
  process.stdout.write(`\nwrote ${path}\n`);
  const failed = result.faults.flatMap((f) => {
    const why = [
      f.error ? `run failed: ${f.error}` : '',
      f.invariants.lost.length ? `${f.invariants.lost.length} lost` : '',
      f.invariants.oversold.length ? `${f.invariants.oversold.length} oversold` : '',
    ].filter(Boolean);
    return why.length ? [{ phase: f.fault, error: why.join('; ') }] : [];
  });
  return { failed };
}
