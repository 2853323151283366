/**
 * bench/soak — a long on-sale against one real server process: one stadium show (100,000
 * seats) and 1,000 small shows, a few dozen WebSocket watchers, and closed-loop
 * hold → confirm / release / abandon churn (short TTLs, so holds expire), bookings
 * cancelled as they age so nothing sells out, and a row added or removed every few
 * seconds. Every sample interval it records the server's RSS, heap used, event-log bytes on
 * disk and open file descriptors; at the end it fits each figure's growth per hour after the
 * warm-up. Heap and RSS are read twice: as found, and after a full GC forced through the
 * server's inspector (a sawtooth sampled at random hides a slow leak); `--raw-heap` skips
 * the GC. From the end of the warm-up V8's sampling heap profiler runs in the server, and the
 * report names the code that allocated what is still alive at the end (the growth).
 * Writes bench/results/soak.json and soak.svg. The command line is run.ts.
 *
 * The server is `src/main.ts` in the all-in-one role on embedded storage in a fresh
 * temporary DATA_DIR, on port 0; every limit the load would hit is set in its environment.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnServer } from '../../testkit/spawn-server.ts';
import { Histogram } from '../../testkit/histogram.ts';
import { resultPath, writeJson, writeText } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';
import { ChurnStats, runChurn } from './churn.ts';
import { outcome, soakClient } from './client.ts';
import { afterWarmUp, fitTrend, type Trend } from './fit.ts';
import { heapSites, type SamplingNode } from './heap-sites.ts';
import { freePort } from '../../testkit/free-port.ts';
import { connectInspector } from './inspector-gc.ts';
import { diskUse, openFds, rssMb, scrapeMetrics } from './probe.ts';
import { bigShow, createBody, SMALL_SEATS, smallShows, type SoakShow } from './shows.ts';
import { renderSoakSvg } from './svg.ts';
import { openWatchers } from './watchers.ts';

export interface SoakOptions {
  minutes: number;
  smallShows: number;
  bigSeats: number;
  clients: number;
  watchers: number;
  sampleSec: number;
  holdTtlSeconds: number;
  layoutEverySec: number;
  /** Share of the run before growth is fitted. */
  warmUpFraction: number;
  /** Force a full GC in the server (through its inspector) before reading heap and RSS. */
  gcBeforeSample: boolean;
  out?: string | undefined;
}

/** The load's fixed shape. */
const LOAD_SHAPE = {
  bigShare: 0.3,
  confirmShare: 0.4,
  releaseShare: 0.35,
  /** Bookings kept before the oldest is cancelled: at most a quarter of all seats stay sold. */
  maxLiveBookings: 5_000,
  setupConcurrency: 16,
};

/**
 * Every limit this load would run into, set explicitly: all clients come from one address.
 * The log's segments are smaller than the 64 MiB default so that a run of minutes rolls
 * several and shows segments below every snapshot being deleted (with the default the same
 * happens, once per 64 MiB).
 */
const SERVER_LIMITS: Record<string, string> = {
  RATE_LIMIT_HOLDS_PER_MINUTE: '0',
  RATE_LIMIT_CUSTOMER_HOLDS_PER_MINUTE: '0',
  WS_MAX_SOCKETS_PER_ADDRESS: '0',
  PASSIVATE_AFTER_MS: String(10 * 60_000),
  EVENT_LOG_SEGMENT_BYTES: String(4 * 1024 * 1024),
  // Keys, cancelled bookings and ended holds are kept this long (+ 1 min) instead of the
  // default maxHoldSeconds + 15 min, so a 10-minute run passes the plateau after its warm-up.
  IDEMPOTENCY_RETENTION_SECONDS: '60',
};

/** V8's default: one sample per 32 KiB allocated on average. */
const HEAP_SAMPLING_INTERVAL_BYTES = 32 * 1024;

interface Sample {
  tSec: number;
  /** RSS and heap used after a forced full GC (unless --raw-heap). */
  rssMb: number;
  heapUsedMb: number;
  /** The same, read before that GC: where the sawtooth happened to be. */
  rssRawMb: number;
  heapUsedRawMb: number;
  externalMb: number;
  logBytes: number;
  snapshotBytes: number;
  archiveBytes: number;
  fds: number;
  activeHolds: number;
  wsSockets: number;
  /** Churn calls per second over the interval that ended here. */
  opsPerSec: number;
  holdP99Ms: number;
  /** The machine's 1-minute load average: the load generator and other work share its cores. */
  loadAvg1: number;
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const mb = (bytes: number) => bytes / (1024 * 1024);
const round = (v: number, d = 2) => (Number.isFinite(v) ? Math.round(v * 10 ** d) / 10 ** d : null);

async function inBatches<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

export async function run(opts: SoakOptions): Promise<void> {
  const config = { ...opts, ...LOAD_SHAPE };
  const dataDir = mkdtempSync(join(tmpdir(), 'soak-'));
  const adminToken = randomBytes(18).toString('base64url');
  const inspectPort = config.gcBeforeSample ? await freePort() : 0;
  let serverLines = 0;
  let serverWarnings = 0;
  const server = await spawnServer(
    {
      DATA_DIR: dataDir,
      ADMIN_TOKEN: adminToken,
      HOLD_TOKEN_SECRET: randomBytes(24).toString('base64url'),
      // Embedded storage in one process, whatever the caller's environment says.
      ROLE: 'all',
      NATS_URL: '',
      DATABASE_URL: '',
      REDIS_URL: '',
      ...SERVER_LIMITS,
      ...(config.gcBeforeSample ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:${inspectPort}`.trim() } : {}),
    },
    (line) => {
      serverLines++;
      if (/"level":(4|5|6)\d/.test(line)) {
        serverWarnings++;
        if (serverWarnings <= 5) log(`  server: ${line.slice(0, 300)}`);
      }
    },
  );
  const pid = server.proc.pid!;
  const inspector = config.gcBeforeSample ? await connectInspector(inspectPort) : null;
  const stopServer = async () => {
    inspector?.close();
    server.proc.kill('SIGTERM');
    const timer = setTimeout(() => server.proc.kill('SIGKILL'), 10_000);
    await server.exited;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopServer().then(() => process.exit(130)));

  try {
    const api = soakClient(server.url, adminToken);
    const big = bigShow(config.bigSeats);
    const small = smallShows(config.smallShows);
    log(`bench/soak — ${cpus().length} cpus, server pid ${pid} at ${server.url}, DATA_DIR ${dataDir}`);
    const setupStart = performance.now();
    const create = async (show: SoakShow) => {
      const r = await outcome(api.createShow(createBody(show)));
      if (r.code !== null) throw new Error(`create ${show.id}: ${r.code}`);
    };
    await create(big);
    await inBatches(small, config.setupConcurrency, create);
    const setupSec = (performance.now() - setupStart) / 1000;
    log(`  created ${big.rows * big.perRow} seats in ${big.id} and ${small.length} small shows in ${setupSec.toFixed(1)} s`);

    // A third of the watchers on the stadium, the rest spread over the small shows.
    const onBig = small.length === 0 ? config.watchers : Math.ceil(config.watchers / 3);
    const spread = config.watchers - onBig;
    const watched = [
      ...Array.from({ length: onBig }, () => big.id),
      ...Array.from({ length: spread }, (_, i) => small[Math.floor((i * small.length) / spread)].id),
    ];
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/v1/ws`;
    const watchers = await openWatchers(wsUrl, watched);
    log(`  ${watched.length} watchers subscribed (${onBig} on ${big.id})`);

    const liveBookings = Math.min(config.maxLiveBookings, Math.floor((big.rows * big.perRow + small.length * SMALL_SEATS) / 8));
    const stats = new ChurnStats();
    const durationMs = config.minutes * 60_000;
    const started = performance.now();
    const stopped = () => performance.now() - started >= durationMs;
    const churn = runChurn(
      api,
      big,
      small,
      {
        clients: config.clients,
        bigShare: config.bigShare,
        holdTtlSeconds: config.holdTtlSeconds,
        confirmShare: config.confirmShare,
        releaseShare: config.releaseShare,
        maxLiveBookings: liveBookings,
        layoutEveryMs: config.layoutEverySec * 1000,
      },
      stats,
      stopped,
    );

    const samples: Sample[] = [];
    let lastOps = 0;
    let lastT = 0;
    const sample = async () => {
      // Time and op count together, before the slow reads below.
      const tSec = (performance.now() - started) / 1000;
      const ops = stats.total();
      const raw = await scrapeMetrics(server.url);
      const rssRaw = rssMb(pid);
      await inspector?.collect();
      const metrics = inspector ? await scrapeMetrics(server.url) : raw;
      const disk = diskUse(dataDir);
      const s: Sample = {
        tSec: round(tSec, 1)!,
        rssMb: round(rssMb(pid))!,
        heapUsedMb: round(mb(metrics.get('nodejs_heap_size_used_bytes') ?? NaN))!,
        rssRawMb: round(rssRaw)!,
        heapUsedRawMb: round(mb(raw.get('nodejs_heap_size_used_bytes') ?? NaN))!,
        externalMb: round(mb(metrics.get('nodejs_external_memory_bytes') ?? NaN))!,
        logBytes: disk.logBytes,
        snapshotBytes: disk.snapshotBytes,
        archiveBytes: disk.archiveBytes,
        fds: openFds(pid),
        activeHolds: metrics.get('seat_active_holds') ?? NaN,
        wsSockets: metrics.get('seats_ws_sockets') ?? NaN,
        opsPerSec: tSec > lastT ? round((ops - lastOps) / (tSec - lastT), 0)! : 0,
        holdP99Ms: round(stats.interval.quantileMs(0.99))!,
        loadAvg1: round(loadavg()[0])!,
      };
      stats.interval = new Histogram();
      lastOps = ops;
      lastT = tSec;
      samples.push(s);
      log(
        `  t=${String(Math.round(s.tSec)).padStart(5)} s  rss ${s.rssMb} MB  heap ${s.heapUsedMb} MB  log ${formatNumber(mb(s.logBytes), 1)} MB  ` +
          `fds ${s.fds}  load ${s.loadAvg1}  holds ${s.activeHolds}  ${formatNumber(s.opsPerSec)} ops/s  hold p99 ${s.holdP99Ms} ms  ws ${watchers.stats.open}/${watchers.stats.sockets}`,
      );
    };
    await sample();
    // From the end of the warm-up, V8 samples allocations; what is still alive at the end is
    // what grew, attributed to the code that allocated it.
    let profileFromSec: number | null = null;
    while (!stopped()) {
      const wait = Math.min(config.sampleSec * 1000, durationMs - (performance.now() - started));
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
      await sample();
      if (inspector && profileFromSec === null && samples[samples.length - 1].tSec >= config.warmUpFraction * config.minutes * 60) {
        await inspector.send('HeapProfiler.startSampling', { samplingInterval: HEAP_SAMPLING_INTERVAL_BYTES });
        profileFromSec = samples[samples.length - 1].tSec;
      }
    }
    let heapProfile: { fromSec: number; toSec: number; retainedMb: number; sites: Array<{ site: string; mb: number }> } | null = null;
    if (inspector && profileFromSec !== null) {
      await inspector.collect();
      const { profile } = await inspector.send<{ profile: { head: SamplingNode } }>('HeapProfiler.getSamplingProfile');
      await inspector.send('HeapProfiler.stopSampling');
      const sites = heapSites(profile.head, 15);
      heapProfile = {
        fromSec: profileFromSec,
        toSec: round((performance.now() - started) / 1000, 1)!,
        retainedMb: round(mb(sites.totalBytes))!,
        sites: sites.sites.map((x) => ({ site: x.site, mb: round(mb(x.bytes))! })),
      };
    }
    await churn;
    const churnSec = (performance.now() - started) / 1000;
    await watchers.close();

    // Growth per hour, fitted after the warm-up.
    const warm = afterWarmUp(samples, config.warmUpFraction);
    const warmFrom = warm[0]?.tSec ?? 0;
    const trendOf = (key: keyof Sample): Trend => fitTrend(warm.map((s) => ({ t: s.tSec, v: s[key] })).filter((p) => Number.isFinite(p.v)));
    const fits = {
      rssMb: trendOf('rssMb'),
      heapUsedMb: trendOf('heapUsedMb'),
      rssRawMb: trendOf('rssRawMb'),
      heapUsedRawMb: trendOf('heapUsedRawMb'),
      externalMb: trendOf('externalMb'),
      logBytes: trendOf('logBytes'),
      snapshotBytes: trendOf('snapshotBytes'),
      archiveBytes: trendOf('archiveBytes'),
      fds: trendOf('fds'),
      activeHolds: trendOf('activeHolds'),
    };
    const slopes = {
      rssMbPerHour: round(fits.rssMb.perHour),
      heapUsedMbPerHour: round(fits.heapUsedMb.perHour),
      rssRawMbPerHour: round(fits.rssRawMb.perHour),
      heapUsedRawMbPerHour: round(fits.heapUsedRawMb.perHour),
      externalMbPerHour: round(fits.externalMb.perHour),
      logBytesPerHour: Math.round(fits.logBytes.perHour),
      snapshotBytesPerHour: Math.round(fits.snapshotBytes.perHour),
      archiveBytesPerHour: Math.round(fits.archiveBytes.perHour),
      fdsPerHour: round(fits.fds.perHour),
      activeHoldsPerHour: round(fits.activeHolds.perHour),
      r2: Object.fromEntries(Object.entries(fits).map(([k, f]) => [k, round(f.r2, 3)])),
      fittedFromSec: warmFrom,
      fittedSamples: warm.length,
    };
    const totalOps = stats.total();
    const churnSummary = {
      seconds: round(churnSec, 1),
      ops: stats.ops,
      totalOps,
      opsPerSec: round(totalOps / churnSec, 0),
      holdsPerSec: round(stats.ops.hold / churnSec, 0),
      abandonedHolds: stats.abandoned,
      holdP50Ms: round(stats.all.quantileMs(0.5)),
      holdP99Ms: round(stats.all.quantileMs(0.99)),
      outcomes: Object.fromEntries([...stats.outcomes.entries()].sort()),
    };
    const last = samples[samples.length - 1];
    const result = {
      config: {
        ...config,
        serverEnv: SERVER_LIMITS,
        cpus: cpus().length,
        node: process.version,
        startedAt: new Date(Date.now() - churnSec * 1000).toISOString(),
      },
      setup: {
        seconds: round(setupSec, 1),
        bigShowSeats: big.rows * big.perRow,
        smallShows: small.length,
        smallShowSeats: SMALL_SEATS,
        maxLiveBookings: liveBookings,
      },
      churn: churnSummary,
      watchers: watchers.stats,
      server: { logLines: serverLines, warnings: serverWarnings },
      samples,
      slopes,
      heapProfile,
    };
    const jsonPath = writeJson(opts.out ?? resultPath('soak'), result);

    const fmtSlope = (v: number | null, unit: string) => (v === null ? '-' : `${v >= 0 ? '+' : ''}${formatNumber(v, 2)} ${unit}/h`);
    const series = (key: keyof Sample, scale = 1) => samples.map((s) => ({ t: s.tSec, v: (s[key] as number) * scale }));
    const trendLine = (f: Trend, scale = 1) => ({ intercept: f.intercept * scale, perHour: f.perHour * scale, fromT: warmFrom });
    const svg = renderSoakSvg(
      `Soak: ${config.minutes} min, ${formatNumber(big.rows * big.perRow)}-seat show + ${small.length} small shows, ${watched.length} watchers`,
      `${formatNumber(churnSummary.opsPerSec ?? 0)} churn ops/s · sample every ${config.sampleSec} s · grey: warm-up (not fitted) · dashed: least-squares trend`,
      [
        {
          title: config.gcBeforeSample ? 'Server memory after a full GC' : 'Server memory',
          unit: 'MB',
          series: [
            {
              name: 'RSS',
              color: '#1f77b4',
              points: series('rssMb'),
              trend: trendLine(fits.rssMb),
              slopeLabel: fmtSlope(slopes.rssMbPerHour, 'MB'),
            },
            {
              name: 'heap used',
              color: '#ff7f0e',
              points: series('heapUsedMb'),
              trend: trendLine(fits.heapUsedMb),
              slopeLabel: fmtSlope(slopes.heapUsedMbPerHour, 'MB'),
            },
            ...(config.gcBeforeSample
              ? [
                  { name: 'RSS before the GC', color: '#aec7e8', points: series('rssRawMb') },
                  { name: 'heap before the GC', color: '#ffbb78', points: series('heapUsedRawMb') },
                ]
              : []),
          ],
        },
        {
          title: 'On disk',
          unit: 'MB',
          series: [
            {
              name: 'event log',
              color: '#2ca02c',
              points: series('logBytes', 1 / 2 ** 20),
              trend: trendLine(fits.logBytes, 1 / 2 ** 20),
              slopeLabel: fmtSlope(fits.logBytes.perHour / 2 ** 20, 'MB'),
            },
            {
              name: 'snapshots',
              color: '#9467bd',
              points: series('snapshotBytes', 1 / 2 ** 20),
              trend: trendLine(fits.snapshotBytes, 1 / 2 ** 20),
              slopeLabel: fmtSlope(fits.snapshotBytes.perHour / 2 ** 20, 'MB'),
            },
            {
              name: 'booking archive',
              color: '#bcbd22',
              points: series('archiveBytes', 1 / 2 ** 20),
              trend: trendLine(fits.archiveBytes, 1 / 2 ** 20),
              slopeLabel: fmtSlope(fits.archiveBytes.perHour / 2 ** 20, 'MB'),
            },
          ],
        },
        {
          title: 'Open file descriptors',
          unit: 'count',
          series: [
            {
              name: 'fds',
              color: '#d62728',
              points: series('fds'),
              trend: trendLine(fits.fds),
              slopeLabel: fmtSlope(slopes.fdsPerHour, 'fds'),
            },
          ],
        },
        {
          title: 'Churn',
          unit: 'ops/s · active holds',
          series: [
            { name: 'ops/s', color: '#8c564b', points: series('opsPerSec').slice(1) },
            { name: 'active holds', color: '#7f7f7f', points: series('activeHolds') },
          ],
        },
      ],
      last?.tSec ?? 0,
      warmFrom,
    );
    const svgPath = writeText(`${jsonPath.replace(/\.json$/, '')}.svg`, svg);

    log('');
    log(
      renderTable(
        ['figure', 'first', 'last', 'slope / hour', 'r²'],
        [
          ['RSS MB', samples[0].rssMb, last.rssMb, fmtSlope(slopes.rssMbPerHour, 'MB'), round(fits.rssMb.r2, 3)],
          ['heap used MB', samples[0].heapUsedMb, last.heapUsedMb, fmtSlope(slopes.heapUsedMbPerHour, 'MB'), round(fits.heapUsedMb.r2, 3)],
          ['RSS MB before GC', samples[0].rssRawMb, last.rssRawMb, fmtSlope(slopes.rssRawMbPerHour, 'MB'), round(fits.rssRawMb.r2, 3)],
          [
            'heap MB before GC',
            samples[0].heapUsedRawMb,
            last.heapUsedRawMb,
            fmtSlope(slopes.heapUsedRawMbPerHour, 'MB'),
            round(fits.heapUsedRawMb.r2, 3),
          ],
          [
            'event log MB',
            formatNumber(mb(samples[0].logBytes), 1),
            formatNumber(mb(last.logBytes), 1),
            fmtSlope(fits.logBytes.perHour / 2 ** 20, 'MB'),
            round(fits.logBytes.r2, 3),
          ],
          [
            'snapshots MB',
            formatNumber(mb(samples[0].snapshotBytes), 1),
            formatNumber(mb(last.snapshotBytes), 1),
            fmtSlope(fits.snapshotBytes.perHour / 2 ** 20, 'MB'),
            round(fits.snapshotBytes.r2, 3),
          ],
          [
            'booking archive MB',
            formatNumber(mb(samples[0].archiveBytes), 1),
            formatNumber(mb(last.archiveBytes), 1),
            fmtSlope(fits.archiveBytes.perHour / 2 ** 20, 'MB'),
            round(fits.archiveBytes.r2, 3),
          ],
          ['open fds', samples[0].fds, last.fds, fmtSlope(slopes.fdsPerHour, 'fds'), round(fits.fds.r2, 3)],
          [
            'active holds',
            samples[0].activeHolds,
            last.activeHolds,
            fmtSlope(slopes.activeHoldsPerHour, 'holds'),
            round(fits.activeHolds.r2, 3),
          ],
        ],
      ),
    );
    log('');
    log(
      renderTable(
        ['churn', 'calls', 'per s'],
        Object.entries(stats.ops)
          .map(([k, n]) => [k, formatNumber(n), formatNumber(n / churnSec, 1)])
          .concat([['total', formatNumber(totalOps), formatNumber(totalOps / churnSec, 1)]]),
      ),
    );
    log(`  hold p50 ${churnSummary.holdP50Ms} ms, p99 ${churnSummary.holdP99Ms} ms; ${stats.abandoned} holds left to expire`);
    log(
      `  outcomes: ${Object.entries(churnSummary.outcomes)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
    log(
      `  watchers: ${watchers.stats.snapshots} snapshots, ${watchers.stats.deltas} deltas, ${watchers.stats.resubscribes} resubscribes, ${watchers.stats.closes} unexpected closes`,
    );
    log(`  server: ${serverWarnings} warning/error log lines`);
    if (heapProfile) {
      log('');
      log(
        `allocated after t=${heapProfile.fromSec} s and still alive at the end: ${heapProfile.retainedMb} MB (sampled), by the innermost project frame:`,
      );
      log(
        renderTable(
          ['site', 'MB'],
          heapProfile.sites.map((x) => [x.site, x.mb]),
        ),
      );
    }
    log(`wrote ${jsonPath} and ${svgPath}`);
  } finally {
    await stopServer();
  }
}
