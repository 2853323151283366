import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { writeJson, writeText } from '../lib/results.ts';
import { BackendSkipped, startBackend, type BackendHandle, type BackendName } from './backends.ts';
import { GENERATOR_SATURATED, runPhase, type PhaseRecord } from './phase.ts';
import { aggregateRatios, generatorCpuByPhase, interleave, medianRatios, medianRecords } from './repeats.ts';
import { computeRatios, progressLine, ratioSpreadTable, resultMarkdown, resultTable } from './report.ts';
import { renderSvg } from './svg.ts';
import { phaseSpec, type PhaseName, type WorkloadSizes } from './workload.ts';

/**
 * bench:compare: one load generator against every backend in turn — this project
 * (durable, embedded, cluster) and the designs a team would otherwise build (Postgres row
 * locks, Redis Lua + Postgres, a Restate virtual object) — with the same workloads and the
 * same correctness check. Writes compare.json, .svg and .md. The CLI is run.ts.
 */

export interface CompareOptions {
  quick: boolean;
  durationSec: number;
  warmupSec: number;
  connections: number;
  generators: number;
  backends: BackendName[];
  phases: PhaseName[];
  /** Runs of every backend and phase, interleaved (1 = the classic single pass). */
  repeat: number;
  url?: string | undefined;
  adminToken: string;
  sizes: WorkloadSizes;
  timeoutSec: number;
  verifySample: number;
  out: string;
}

export interface CompareOutcome {
  doc: Record<string, unknown>;
  /** Phases that failed or backends that failed to start (a backend skipped for a missing service is not one). */
  failed: Array<{ backend: string; phase?: string; reason: string }>;
  /** Oversold or lost seats. */
  incorrect: PhaseRecord[];
}

const say = (line: string) => process.stdout.write(`${line}\n`);
/** seat-cluster-durable → scd: keeps per-backend names (databases, show ids) short and distinct. */
const initials = (name: string) =>
  name
    .split('-')
    .map((w) => w[0])
    .join('');

export async function run(opts: CompareOptions, log: (line: string) => void = say): Promise<CompareOutcome> {
  const startedAt = new Date().toISOString();
  // Short, unique, and valid as a show id prefix, database name and key prefix.
  const runTag = `c${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const results: Array<PhaseRecord & { repeat: number }> = [];
  const skipped: Array<{ backend: string; phase?: string; reason: string; repeat?: number }> = [];
  const failed: CompareOutcome['failed'] = [];
  const notes: string[] = [];
  let active: BackendHandle | null = null;

  const stopActive = async () => {
    const a = active;
    active = null;
    if (a) await a.stop().catch((err: unknown) => log(`  stopping ${a.name} failed: ${String(err)}`));
  };
  const onSignal = (sig: NodeJS.Signals) => {
    log(`\n${sig}: stopping ${active?.name ?? 'nothing'} and cleaning up`);
    void stopActive().finally(() => process.exit(130));
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, onSignal);

  const schedule = interleave(opts.backends, opts.phases, opts.repeat);
  const total = schedule.length * opts.phases.length;
  log(
    `bench:compare run ${runTag}: ${opts.backends.join(', ')} × ${opts.phases.join(', ')}${opts.repeat > 1 ? ` × ${opts.repeat} repeats, interleaved` : ''}; ` +
      `${opts.durationSec} s per phase, ${opts.connections} clients over ${opts.generators} generator process(es); load ${loadavg()[0].toFixed(2)}`,
  );
  /** Backends skipped for good (a missing service): not retried in later repeats. */
  const unavailable = new Set<string>();
  let index = 0;
  try {
    for (const { repeat, backend: name, phases } of schedule) {
      const tag = opts.repeat > 1 ? ` (repeat ${repeat})` : '';
      if (unavailable.has(name)) {
        index += phases.length;
        continue;
      }
      try {
        // Each repeat starts the backend afresh, under its own names, so runs do not share state.
        const suffix = opts.repeat > 1 ? `${initials(name)}${repeat}` : initials(name);
        active = await startBackend(name, { runTag: `${runTag}_${suffix}`, adminToken: opts.adminToken, url: opts.url });
      } catch (err) {
        index += phases.length;
        if (err instanceof BackendSkipped) {
          unavailable.add(name);
          skipped.push({ backend: name, reason: err.message });
          log(`[skip] ${name}: ${err.message}`);
        } else {
          const reason = `failed to start: ${String((err as Error)?.message ?? err)}`;
          skipped.push({ backend: name, reason, repeat });
          failed.push({ backend: name, reason });
          log(`[FAILED] ${name}${tag}: ${reason}`);
        }
        continue;
      }
      for (const phase of phases) {
        index++;
        try {
          const suffix = opts.repeat > 1 ? `${initials(name)}${repeat}` : initials(name);
          const r = await runPhase(active, {
            spec: phaseSpec(phase, opts.sizes),
            runTag: `${runTag}${suffix}`,
            connections: opts.connections,
            generators: opts.generators,
            durationSec: opts.durationSec,
            warmupSec: opts.warmupSec,
            timeoutSec: opts.timeoutSec,
            verifySample: opts.verifySample,
          });
          results.push({ ...r, repeat });
          log(`${progressLine(index, total, r)}${tag}`);
          if (r.generator.saturated)
            log(
              `  the generator used over ${GENERATOR_SATURATED * 100} % of a core: the numbers may be generator-bound; try --generators ${opts.generators + 1}`,
            );
          if (r.problems.length > 0) log(`  problems: ${r.problems.slice(0, 3).join('; ')}`);
        } catch (err) {
          const reason = `phase failed: ${String((err as Error)?.message ?? err)}`;
          skipped.push({ backend: name, phase, reason, repeat });
          failed.push({ backend: name, phase, reason });
          log(`[${index}/${total}] ${name} ${phase}${tag}: ${reason}`);
        }
      }
      await stopActive();
    }
  } finally {
    await stopActive();
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.off(sig, onSignal);
  }

  // One ratio per repeat (from that repeat's own runs), then the median and spread over repeats.
  const perRepeat = Array.from({ length: opts.repeat }, (_, i) =>
    computeRatios(
      results.filter((r) => r.repeat === i + 1),
      opts.phases,
      skipped,
    ),
  );
  const ratioSpreads = aggregateRatios(
    perRepeat.map((p) => p.ratios),
    opts.phases,
  );
  const single = computeRatios(medianRecords(results), opts.phases, skipped);
  const ratios = opts.repeat > 1 ? medianRatios(ratioSpreads) : single.ratios;
  const ratiosBasis =
    opts.repeat > 1
      ? { ...single.ratiosBasis, note: `${single.ratiosBasis.note}; median over ${opts.repeat} interleaved repeats (see ratioSpreads)` }
      : single.ratiosBasis;
  const generatorCpu = generatorCpuByPhase(results, opts.phases);
  const saturated = results.filter((r) => r.generator.saturated);
  const generatorCheck = {
    thresholdShareOfCore: GENERATOR_SATURATED,
    processes: opts.generators,
    maxShareOfCore: Math.max(0, ...results.flatMap((r) => r.generator.cpuShareOfCore)),
    saturated: saturated.map((r) => `${r.backend}/${r.phase}${opts.repeat > 1 ? `#${r.repeat}` : ''}`),
    verdict:
      saturated.length === 0
        ? 'no generator process exceeded the threshold: the backends, not the generator, set these numbers'
        : `generator-bound in ${saturated.length} backend/phase run(s): rerun with more --generators`,
  };
  if (opts.quick) notes.push('--quick: short phases and a smaller spread; numbers are indicative only');
  notes.push(
    'cpuSecPer1kOps: utime+stime from /proc of the server-side processes listed in cpu.includes, over the load window, per 1,000 answered requests (holds, confirms, releases)',
    'p50Ms/p99Ms/p999Ms are hold latencies measured by the generator; confirm and release latencies are in latencyMs',
    'generator.cpuSec / cpuMsPer1kOps: process.cpuUsage() of each load generator process over the measured window; generatorCpu sums them per phase',
  );
  if (opts.repeat > 1)
    notes.push(
      `--repeat ${opts.repeat}: per repeat every backend ran every phase, backends and phases in an order rotated by one each repeat; ` +
        'ratioSpreads gives per phase the ratio of each repeat, their median, min, max and spreadPct = (max − min) / median; results holds every run (field repeat)',
    );

  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
  const doc = {
    machine,
    startedAt,
    finishedAt: new Date().toISOString(),
    runTag,
    options: {
      quick: opts.quick,
      durationSec: opts.durationSec,
      warmupSec: opts.warmupSec,
      connections: opts.connections,
      generators: opts.generators,
      timeoutSec: opts.timeoutSec,
      sizes: opts.sizes,
      backends: opts.backends,
      phases: opts.phases,
      url: opts.url ?? null,
      repeat: opts.repeat,
      loadGenerator: 'autocannon request sequences (hold → confirm|release), see bench/compare/README.md',
    },
    results,
    skipped,
    failed,
    ratios,
    ratiosBasis,
    ratioSpreads,
    generatorCpu,
    generatorCheck,
    notes,
  };
  const shown = medianRecords(results);
  const jsonPath = writeJson(opts.out, doc);
  const base = jsonPath.replace(/\.json$/, '');
  const title = `bench:compare — ${machine.cpus} cores, ${startedAt.slice(0, 16)}Z${opts.quick ? ' (quick)' : ''}${opts.repeat > 1 ? `, median of ${opts.repeat}` : ''}`;
  writeText(
    `${base}.svg`,
    renderSvg(
      shown,
      opts.phases,
      opts.backends.filter((b) => results.some((r) => r.backend === b)),
      skipped,
      title,
    ),
  );
  writeText(`${base}.md`, `${resultMarkdown(shown)}\n`);

  log('');
  log(resultTable(opts.repeat > 1 ? results : shown));
  for (const s of skipped)
    log(`skipped ${s.backend}${s.phase ? ` ${s.phase}` : ''}${s.repeat && opts.repeat > 1 ? ` (repeat ${s.repeat})` : ''}: ${s.reason}`);
  if (opts.repeat > 1) {
    log(`\nratios over ${opts.repeat} interleaved repeats (holds/s of ${ratiosBasis.backend ?? '-'} over the peer):`);
    log(ratioSpreadTable(ratioSpreads, generatorCpu));
  } else log(`ratios (${ratiosBasis.note}): ${JSON.stringify(ratios)}`);
  log(`generator check: ${generatorCheck.verdict} (max ${Math.round(generatorCheck.maxShareOfCore * 100)} % of a core)`);
  log(`wrote ${jsonPath}, ${base}.svg, ${base}.md`);
  const incorrect = results.filter((r) => r.oversold > 0 || r.lost > 0);
  if (incorrect.length > 0)
    log(`CORRECTNESS FAILED: ${incorrect.map((r) => `${r.backend}/${r.phase} oversold ${r.oversold} lost ${r.lost}`).join('; ')}`);
  if (failed.length > 0) log(`FAILED: ${failed.map((f) => `${f.backend}${f.phase ? `/${f.phase}` : ''}: ${f.reason}`).join('; ')}`);
  return { doc, failed, incorrect };
}
