import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { ArgError, intArg, listArg, numberArg, parseCli } from '../lib/args.ts';
import { resultPath, writeJson, writeText } from '../lib/results.ts';
import { BACKENDS, BackendSkipped, startBackend, type BackendHandle, type BackendName } from './backends.ts';
import { GENERATOR_SATURATED, runPhase, type PhaseRecord } from './phase.ts';
import { computeRatios, progressLine, resultMarkdown, resultTable } from './report.ts';
import { renderSvg } from './svg.ts';
import { DEFAULT_SIZES, PHASES, phaseSpec, type PhaseName } from './workload.ts';

/**
 * `npm run bench:compare`: one load generator against every backend in turn — this
 * project (durable, embedded, cluster) and the designs a team would otherwise build
 * (Postgres row locks, Redis Lua + Postgres, a Restate virtual object) — with the same
 * workloads and the same correctness check. Writes bench/results/compare.json and .svg.
 */

const USAGE = `usage: npm run bench:compare -- [options]
  --quick                 about a minute: short phases, 100 spread shows
  --duration S            seconds of load per backend and phase (default 20, quick 2)
  --warmup S              unmeasured load before each window (default 2, quick 0.5)
  --connections N         concurrent clients (default 64)
  --generators N          load generator processes sharing the clients (default 2)
  --backends a,b          from ${BACKENDS.join(', ')}
  --phases a,b            from ${PHASES.join(', ')}
  --url URL               drive a running gateway instead of starting backends
  --admin-token T         its admin token (with --url)
  --hot-seats N --spread-shows N --spread-seats N --best-seats N   workload sizes
  --timeout S             per-request timeout (default 10)
  --verify-sample N       bookings fetched back per backend and phase (default 2000)
  --out FILE              where compare.json goes (the .svg and .md go beside it)`;

const OPTIONS = {
  quick: { type: 'boolean' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  connections: { type: 'string' },
  generators: { type: 'string' },
  backends: { type: 'string' },
  phases: { type: 'string' },
  url: { type: 'string' },
  'admin-token': { type: 'string' },
  'hot-seats': { type: 'string' },
  'spread-shows': { type: 'string' },
  'spread-seats': { type: 'string' },
  'best-seats': { type: 'string' },
  timeout: { type: 'string' },
  'verify-sample': { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean' },
} as const;

function options() {
  const a = parseCli(OPTIONS);
  if (a.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = a.quick === true;
  const external = typeof a.url === 'string';
  if (external) new URL(a.url as string);
  const defaultBackends: BackendName[] = external ? ['external'] : [...BACKENDS];
  const backends = listArg<BackendName>(a.backends, 'backends', defaultBackends, external ? ['external', ...BACKENDS] : [...BACKENDS]);
  return {
    quick,
    durationSec: numberArg(a.duration, 'duration', quick ? 2 : 20, 0.5),
    warmupSec: numberArg(a.warmup, 'warmup', quick ? 0.5 : 2, 0),
    connections: intArg(a.connections, 'connections', 64, 1),
    generators: intArg(a.generators, 'generators', 2, 1),
    backends,
    phases: listArg<PhaseName>(a.phases, 'phases', PHASES, PHASES),
    url: a.url as string | undefined,
    adminToken: (a['admin-token'] as string | undefined) ?? `bench-${randomBytes(12).toString('base64url')}`,
    sizes: {
      hotSeats: intArg(a['hot-seats'], 'hot-seats', DEFAULT_SIZES.hotSeats, 10),
      spreadShows: intArg(a['spread-shows'], 'spread-shows', quick ? 100 : DEFAULT_SIZES.spreadShows, 1),
      spreadSeats: intArg(a['spread-seats'], 'spread-seats', DEFAULT_SIZES.spreadSeats, 10),
      bestSeats: intArg(a['best-seats'], 'best-seats', DEFAULT_SIZES.bestSeats, 10),
    },
    timeoutSec: intArg(a.timeout, 'timeout', 10, 1),
    verifySample: intArg(a['verify-sample'], 'verify-sample', 2000, 0),
    out: (a.out as string | undefined) ?? resultPath('compare'),
  };
}

const say = (line: string) => process.stdout.write(`${line}\n`);
/** seat-cluster-durable → scd: keeps per-backend names (databases, show ids) short and distinct. */
const initials = (name: string) => name.split('-').map((w) => w[0]).join('');

async function main(): Promise<void> {
  const opts = options();
  const startedAt = new Date().toISOString();
  // Short, unique, and valid as a show id prefix, database name and key prefix.
  const runTag = `c${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const results: PhaseRecord[] = [];
  const skipped: Array<{ backend: string; phase?: string; reason: string }> = [];
  const notes: string[] = [];
  let active: BackendHandle | null = null;

  const stopActive = async () => {
    const a = active;
    active = null;
    if (a) await a.stop().catch((err: unknown) => say(`  stopping ${a.name} failed: ${String(err)}`));
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      say(`\n${sig}: stopping ${active?.name ?? 'nothing'} and cleaning up`);
      void stopActive().finally(() => process.exit(130));
    });
  }

  const total = opts.backends.length * opts.phases.length;
  say(
    `bench:compare run ${runTag}: ${opts.backends.join(', ')} × ${opts.phases.join(', ')}; ${opts.durationSec} s per phase, ` +
      `${opts.connections} clients over ${opts.generators} generator process(es); load ${loadavg()[0].toFixed(2)}`,
  );
  let index = 0;
  for (const name of opts.backends) {
    try {
      active = await startBackend(name, { runTag: `${runTag}_${initials(name)}`, adminToken: opts.adminToken, url: opts.url });
    } catch (err) {
      const reason = err instanceof BackendSkipped ? err.message : `failed to start: ${String((err as Error)?.message ?? err)}`;
      skipped.push({ backend: name, reason });
      index += opts.phases.length;
      say(`[skip] ${name}: ${reason}`);
      continue;
    }
    for (const phase of opts.phases) {
      index++;
      try {
        const r = await runPhase(active, {
          spec: phaseSpec(phase, opts.sizes),
          runTag: `${runTag}${initials(name)}`,
          connections: opts.connections,
          generators: opts.generators,
          durationSec: opts.durationSec,
          warmupSec: opts.warmupSec,
          timeoutSec: opts.timeoutSec,
          verifySample: opts.verifySample,
        });
        results.push(r);
        say(progressLine(index, total, r));
        if (r.generator.saturated)
          say(`  the generator used over ${GENERATOR_SATURATED * 100} % of a core: the numbers may be generator-bound; try --generators ${opts.generators + 1}`);
        if (r.problems.length > 0) say(`  problems: ${r.problems.slice(0, 3).join('; ')}`);
      } catch (err) {
        const reason = `phase failed: ${String((err as Error)?.message ?? err)}`;
        skipped.push({ backend: name, phase, reason });
        say(`[${index}/${total}] ${name} ${phase}: ${reason}`);
      }
    }
    await stopActive();
  }

  const { ratios, ratiosBasis } = computeRatios(results, opts.phases, skipped);
  const saturated = results.filter((r) => r.generator.saturated);
  const generatorCheck = {
    thresholdShareOfCore: GENERATOR_SATURATED,
    processes: opts.generators,
    maxShareOfCore: Math.max(0, ...results.flatMap((r) => r.generator.cpuShareOfCore)),
    saturated: saturated.map((r) => `${r.backend}/${r.phase}`),
    verdict:
      saturated.length === 0
        ? 'no generator process exceeded the threshold: the backends, not the generator, set these numbers'
        : `generator-bound in ${saturated.length} backend/phase(s): rerun with more --generators`,
  };
  if (opts.quick) notes.push('--quick: short phases and a smaller spread; numbers are indicative only');
  notes.push(
    'cpuSecPer1kOps: utime+stime from /proc of the server-side processes listed in cpu.includes, over the load window, per 1,000 answered requests (holds, confirms, releases)',
    'p50Ms/p99Ms/p999Ms are hold latencies measured by the generator; confirm and release latencies are in latencyMs',
  );

  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform}-${process.arch}` };
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
      loadGenerator: 'autocannon request sequences (hold → confirm|release), see bench/compare/README.md',
    },
    results,
    skipped,
    ratios,
    ratiosBasis,
    generatorCheck,
    notes,
  };
  const jsonPath = writeJson(opts.out, doc);
  const base = jsonPath.replace(/\.json$/, '');
  writeText(`${base}.svg`, renderSvg(results, opts.phases, opts.backends.filter((b) => results.some((r) => r.backend === b)), skipped, `bench:compare — ${machine.cpus} cores, ${startedAt.slice(0, 16)}Z${opts.quick ? ' (quick)' : ''}`));
  writeText(`${base}.md`, `${resultMarkdown(results)}\n`);

  say('');
  say(resultTable(results));
  for (const s of skipped) say(`skipped ${s.backend}${s.phase ? ` ${s.phase}` : ''}: ${s.reason}`);
  say(`ratios (${ratiosBasis.note}): ${JSON.stringify(ratios)}`);
  say(`generator check: ${generatorCheck.verdict} (max ${Math.round(generatorCheck.maxShareOfCore * 100)} % of a core)`);
  say(`wrote ${jsonPath}, ${base}.svg, ${base}.md`);
  const bad = results.filter((r) => r.oversold > 0 || r.lost > 0);
  if (bad.length > 0) {
    say(`CORRECTNESS FAILED: ${bad.map((r) => `${r.backend}/${r.phase} oversold ${r.oversold} lost ${r.lost}`).join('; ')}`);
    process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  if (err instanceof ArgError || (err as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(64);
  }
  process.stderr.write(`bench:compare failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
