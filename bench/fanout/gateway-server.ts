// Bench child: a node (memory storage) with the WebSocket gateway on a plain http server,
// one show, and a load generator that changes seats through the service in-process (as a
// show's owner would). IPC: 'load-start' {rate}, 'load-stop', 'stats-reset', 'stats'.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { DEFAULT_LIMITS, DEFAULT_OFFERS } from '../../src/actors/defaults.ts';
import { createEdgeLimiter, NO_RATE_LIMITS } from '../../src/gateway/limits/index.ts';
import { attachWebSocket } from '../../src/gateway/ws/index.ts';
import { createSeatNode } from '../../src/node.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { cpuPercent, serveParent } from './ipc.ts';
import { startLoad, type Load } from './load.ts';

const SHOW_ID = 'bench';
const ROWS = 50;
const SEATS_PER_ROW = 100;

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const node = createSeatNode(
  { holdTokenSecret: 'fanout-bench-secret-0123456789', snapshotEveryEvents: 1_000_000, snapshotEveryMs: 3_600_000 },
  openMemoryStorage(logger),
  logger,
);
await node.service.createShow({
  id: SHOW_ID,
  title: 'Fan-out bench',
  city: 'Pune',
  venue: 'Stadium',
  startsAt: '2026-12-01T19:30:00+05:30',
  categories: [{ id: 'std', price: 10000, currency: 'INR' }],
  layout: {
    sections: [
      { id: 'main', rows: Array.from({ length: ROWS }, (_, r) => ({ label: `R${r + 1}`, seats: SEATS_PER_ROW, category: 'std' })) },
    ],
  },
  limits: { ...DEFAULT_LIMITS, maxSeatsPerHold: 10 },
  offers: { ...DEFAULT_OFFERS },
});
const labels = (await node.service.getSeatMap(SHOW_ID)).labels;

const server = createServer((_req, res) => {
  res.statusCode = 404;
  res.end();
});
// Thousands of sockets from one loopback address: the per-address share and the rate limits
// are switched off explicitly (the bench measures fan-out, not the limits).
const ws = attachWebSocket(server, {
  service: node.service,
  logger,
  maxSocketsPerAddress: 0,
  limiter: createEdgeLimiter(NO_RATE_LIMITS, { kind: 'memory' }, logger),
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;

let load: Load | null = null;
let cpuFrom = process.cpuUsage();
let wallFrom = performance.now();
let changesFrom = 0;
let maxRss = 0;
setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 250).unref();

serveParent(
  { wsUrl: `ws://127.0.0.1:${port}/v1/ws`, showId: SHOW_ID },
  {
    'load-start': (m) => {
      load = startLoad(
        {
          hold: (label) => node.service.hold(SHOW_ID, { seats: [label] }),
          release: (holdId, holdToken) => node.service.release(SHOW_ID, holdId, holdToken),
        },
        labels,
        m.rate,
      );
    },
    'load-stop': async () => {
      await load?.stop();
    },
    'stats-reset': () => {
      cpuFrom = process.cpuUsage();
      wallFrom = performance.now();
      changesFrom = load?.changes() ?? 0;
      maxRss = process.memoryUsage().rss;
    },
    stats: () => {
      const wallMs = performance.now() - wallFrom;
      return {
        cpuPercent: cpuPercent(cpuFrom, wallMs),
        rssMb: Math.round(Math.max(maxRss, process.memoryUsage().rss) / 2 ** 20),
        changes: (load?.changes() ?? 0) - changesFrom,
        loadErrors: load?.errors() ?? 0,
        ws: ws.stats(),
      };
    },
  },
);
process.on('SIGTERM', () => process.exit(0));
