// Bench child: the ceiling. A bare `ws` server that, every tick, serializes one frame the
// size of the gateway's and sends that same Buffer to every client: no validation,
// subscriptions, coalescing, backpressure or seat logic. IPC: 'start' {tickMs, frameBytes},
// 'stop', 'stats-reset', 'stats'.
import { WebSocketServer, WebSocket } from 'ws';
import { cpuPercent, serveParent } from './ipc.ts';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 16 * 1024 });
await new Promise((r) => wss.once('listening', r));
const port = (wss.address() as { port: number }).port;
const clients = new Set<WebSocket>();
wss.on('connection', (ws) => {
  clients.add(ws);
  ws.on('close', () => clients.delete(ws));
  ws.on('error', () => {});
});

let timer: NodeJS.Timeout | null = null;
let version = 0;
let cpuFrom = process.cpuUsage();
let wallFrom = performance.now();
let maxRss = 0;
setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 250).unref();

function frame(frameBytes: number): Buffer {
  const head = `{"type":"delta","showId":"bench","fromVersion":${version},"version":${version + 1},"changes":[`;
  const tail = `],"showStatus":"scheduled","ts":${Date.now()}}`;
  const entry = '["R1-1","held"]';
  const n = Math.max(1, Math.round((frameBytes - head.length - tail.length) / (entry.length + 1)));
  version++;
  return Buffer.from(head + Array(n).fill(entry).join(',') + tail);
}

serveParent(
  { wsUrl: `ws://127.0.0.1:${port}/` },
  {
    start: (m) => {
      timer = setInterval(() => {
        const buf = frame(m.frameBytes);
        for (const ws of clients) if (ws.readyState === WebSocket.OPEN) ws.send(buf, { binary: false });
      }, m.tickMs);
    },
    stop: () => {
      if (timer) clearInterval(timer);
    },
    'stats-reset': () => {
      cpuFrom = process.cpuUsage();
      wallFrom = performance.now();
      maxRss = process.memoryUsage().rss;
    },
    stats: () => ({
      cpuPercent: cpuPercent(cpuFrom, performance.now() - wallFrom),
      rssMb: Math.round(Math.max(maxRss, process.memoryUsage().rss) / 2 ** 20),
    }),
  },
);
process.on('SIGTERM', () => process.exit(0));
