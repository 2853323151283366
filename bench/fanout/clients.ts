// Bench child: N WebSocket watchers in one process. Counts delta frames and bytes and
// records delivery latency (receive time minus the frame's `ts`) in 1 ms buckets. Reads
// `ts` from the frame's tail instead of parsing it, so the client is not the bottleneck.
// IPC: 'reset', 'report', 'close'. Args: {url, n, showId?}.
import { WebSocket } from 'ws';
import { bucketPercentile } from '../../testkit/percentile.ts';
import { cpuPercent, serveParent } from './ipc.ts';

const { url, n, showId } = JSON.parse(process.argv[2] ?? '{}') as { url: string; n: number; showId?: string };
const CONNECT_CONCURRENCY = 200;
const MAX_LATENCY_MS = 60_000;

const buckets = new Uint32Array(MAX_LATENCY_MS + 1);
let frames = 0;
let bytes = 0;
let snapshots = 0;
let closedEarly = 0;
let cpuFrom = process.cpuUsage();
let wallFrom = performance.now();
const sockets: WebSocket[] = [];
const DELTA_PREFIX = Buffer.from('{"type":"delta"');
const TS_KEY = Buffer.from('"ts":');

function onMessage(data: Buffer): void {
  if (data.compare(DELTA_PREFIX, 0, DELTA_PREFIX.length, 0, DELTA_PREFIX.length) !== 0) {
    snapshots++;
    return;
  }
  frames++;
  bytes += data.length;
  const at = data.lastIndexOf(TS_KEY);
  if (at < 0) return;
  let ts = 0;
  for (let i = at + TS_KEY.length; i < data.length; i++) {
    const c = data[i] - 48;
    if (c < 0 || c > 9) break;
    ts = ts * 10 + c;
  }
  buckets[Math.min(MAX_LATENCY_MS, Math.max(0, Date.now() - ts))]++;
}

function connectOne(): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('message', onMessage);
    ws.once('open', () => {
      sockets.push(ws);
      if (showId) ws.send(JSON.stringify({ type: 'subscribe', showId }));
      resolve(true);
    });
    ws.once('error', () => resolve(false));
    ws.once('close', () => closedEarly++);
  });
}

const started = performance.now();
let failed = 0;
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(CONNECT_CONCURRENCY, n) }, async () => {
    while (next < n) {
      next++;
      if (!(await connectOne())) failed++;
    }
  }),
);
const connectMs = Math.round(performance.now() - started);

serveParent(
  { connected: sockets.length, failed, connectMs },
  {
    reset: () => {
      buckets.fill(0);
      frames = 0;
      bytes = 0;
      cpuFrom = process.cpuUsage();
      wallFrom = performance.now();
    },
    report: () => {
      const wallMs = performance.now() - wallFrom;
      return {
        frames,
        bytes,
        snapshots,
        closedEarly,
        open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length,
        p50: bucketPercentile(buckets, 50),
        p99: bucketPercentile(buckets, 99),
        cpuPercent: cpuPercent(cpuFrom, wallMs),
        wallMs,
      };
    },
    close: () => {
      for (const s of sockets) s.terminate();
    },
  },
);
process.on('SIGTERM', () => process.exit(0));
