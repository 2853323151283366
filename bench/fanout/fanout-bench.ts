// Fan-out benchmark: one show, N watchers (from a separate client process), M seat changes
// per second. Measures the gateway, then a bare `ws` broadcast of same-sized frames at the
// same tick to the same N clients (the ceiling), and prints both with their ratio. The
// command line is run.ts.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { spawnChild, type Child } from './ipc.ts';
import { startLoad } from './load.ts';
import { createExternalShow, externalOps } from './external.ts';

export interface FanoutOptions {
  /** Watcher counts, one row each. */
  sizes: number[];
  /** Seat changes per second. */
  rate: number;
  durationSec: number;
  warmupSec: number;
  tickMs: number;
  /** A running gateway instead of a local one: its WebSocket URL, HTTP URL and admin token. */
  external?: { ws: string; url: string; adminToken: string } | undefined;
  out: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Open-file limit of this process (children inherit it); each socket is one fd per side. */
function fdLimit(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3] ?? 1024);
}

interface Measured {
  framesPerSec: number;
  expectedFramesPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  avgFrameBytes: number;
  serverCpuPercent: number | null;
  serverRssMb: number | null;
  clientCpuPercent: number;
  connected: number;
  connectMs: number;
  extra?: Record<string, unknown>;
}

export async function run(opts: FanoutOptions): Promise<void> {
  const { sizes, rate, tickMs, external: ext, out: OUT } = opts;
  const durationMs = opts.durationSec * 1000;
  const warmupMs = opts.warmupSec * 1000;
  const external = ext !== undefined;
  const notes: string[] = [];

  /** Connects N clients, runs `drive` (starts the traffic), measures for `durationMs`. */
  async function measure(
    n: number,
    wsUrl: string,
    showId: string | undefined,
    server: Child | null,
    start: () => Promise<void>,
    stop: () => Promise<void>,
  ): Promise<Measured> {
    const clients = await spawnChild('./clients.ts', { url: wsUrl, n, ...(showId ? { showId } : {}) });
    try {
      if (clients.hello.failed) notes.push(`n=${n}: ${clients.hello.failed} connections failed`);
      await start();
      await sleep(warmupMs);
      await Promise.all([clients.ask('reset'), server?.ask('stats-reset')]);
      await sleep(durationMs);
      const [c, s] = await Promise.all([clients.ask('report'), server?.ask('stats')]);
      await stop();
      await clients.ask('close');
      const secs = c.wallMs / 1000;
      return {
        framesPerSec: Math.round(c.frames / secs),
        expectedFramesPerSec: Math.round((clients.hello.connected * 1000) / tickMs),
        p50Ms: c.p50,
        p99Ms: c.p99,
        avgFrameBytes: c.frames ? Math.round(c.bytes / c.frames) : 0,
        serverCpuPercent: s?.cpuPercent ?? null,
        serverRssMb: s?.rssMb ?? null,
        clientCpuPercent: c.cpuPercent,
        connected: clients.hello.connected,
        connectMs: clients.hello.connectMs,
        ...(s?.ws
          ? {
              extra: {
                changesPerSec: Math.round(s.changes / secs),
                tickMs: s.ws.tickMs,
                staleSockets: s.ws.staleSockets,
                slowTerminated: s.ws.slowTerminated,
                openAtEnd: c.open,
              },
            }
          : {}),
      };
    } finally {
      await clients.stop();
    }
  }

  async function gatewayRun(n: number): Promise<Measured> {
    if (external) {
      const showId = await createExternalShow(ext!.url, ext!.adminToken);
      let load: ReturnType<typeof startLoad> | null = null;
      return measure(
        n,
        ext!.ws,
        showId.id,
        null,
        async () => void (load = startLoad(externalOps(ext!.url, showId.id), showId.labels, rate)),
        async () => void (await load?.stop()),
      );
    }
    const server = await spawnChild('./gateway-server.ts');
    try {
      return await measure(
        n,
        server.hello.wsUrl,
        server.hello.showId,
        server,
        async () => void (await server.ask('load-start', { rate })),
        async () => void (await server.ask('load-stop')),
      );
    } finally {
      await server.stop();
    }
  }

  async function bareRun(n: number, frameBytes: number): Promise<Measured> {
    const server = await spawnChild('./bare-server.ts');
    try {
      return await measure(
        n,
        server.hello.wsUrl,
        undefined,
        server,
        async () => void (await server.ask('start', { tickMs, frameBytes })),
        async () => void (await server.ask('stop')),
      );
    } finally {
      await server.stop();
    }
  }

  const limit = fdLimit();
  const results: Array<{ n: number; gateway: Measured; bare: Measured; ratio: Record<string, number | null> }> = [];
  for (const n of sizes) {
    if (n + 256 > limit) {
      notes.push(`n=${n} skipped: open-file limit ${limit} (ulimit -n) is below the ${n + 256} fds a side needs`);
      continue;
    }
    process.stderr.write(`n=${n}: gateway…\n`);
    const gateway = await gatewayRun(n);
    process.stderr.write(`n=${n}: bare ws…\n`);
    const bare = await bareRun(n, gateway.avgFrameBytes || 300);
    const r = (a: number | null, b: number | null) => (a !== null && b ? Math.round((a / b) * 100) / 100 : null);
    results.push({
      n,
      gateway,
      bare,
      ratio: {
        framesPerSec: r(gateway.framesPerSec, bare.framesPerSec),
        p50: r(gateway.p50Ms, bare.p50Ms),
        p99: r(gateway.p99Ms, bare.p99Ms),
      },
    });
  }

  const rows = [
    ['N', 'server', 'frames/s', 'of ideal', 'p50 ms', 'p99 ms', 'srv CPU %', 'srv RSS MB', 'cli CPU %', 'tick ms', 'frames/s vs bare'],
  ];
  for (const { n, gateway: g, bare: b, ratio } of results) {
    const pct = (m: Measured) => `${Math.round((m.framesPerSec / m.expectedFramesPerSec) * 100)}%`;
    rows.push([
      String(n),
      'gateway',
      String(g.framesPerSec),
      pct(g),
      String(g.p50Ms),
      String(g.p99Ms),
      String(g.serverCpuPercent ?? '-'),
      String(g.serverRssMb ?? '-'),
      String(g.clientCpuPercent),
      String(g.extra?.tickMs ?? '-'),
      String(ratio.framesPerSec),
    ]);
    rows.push([
      '',
      'bare ws',
      String(b.framesPerSec),
      pct(b),
      String(b.p50Ms),
      String(b.p99Ms),
      String(b.serverCpuPercent),
      String(b.serverRssMb),
      String(b.clientCpuPercent),
      String(tickMs),
      '1',
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  process.stdout.write(
    `\nfan-out: one show, ${rate} seat changes/s, ${opts.durationSec}s measured, tick ${tickMs} ms, ${availableParallelism()} cores, fd limit ${limit}\n`,
  );
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padStart(widths[i])).join('  ')}\n`);
  for (const note of notes) process.stdout.write(`note: ${note}\n`);

  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    `${JSON.stringify({ bench: 'fanout', at: new Date().toISOString(), node: process.version, cores: availableParallelism(), fdLimit: limit, params: { sizes, rate, durationMs, warmupMs, tickMs, target: ext ? ext.ws : 'local gateway-server' }, results, notes }, null, 2)}\n`,
  );
  process.stdout.write(`wrote ${OUT}\n`);
}
