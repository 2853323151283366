import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { WebSocket } from 'ws';
import type { ShowDefinition } from '../../src/actors/types.ts';
import { servePage } from '../../src/gateway/page/index.ts';
import { attachWebSocket, type WebSocketGateway, type WebSocketOptions } from '../../src/gateway/ws/index.ts';
import { createEdgeLimiter, NO_RATE_LIMITS } from '../../src/gateway/limits/index.ts';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openMemoryStorage, type Storage } from '../../src/persistence/index.ts';
import { showDef } from '../../testkit/shows.ts';

/** A node (memory storage) behind a plain http server with only the WebSocket and the page. */
export interface WsTestServer {
  node: SeatNode;
  ws: WebSocketGateway;
  server: Server;
  url: string;
  wsUrl: string;
  stop(): Promise<void>;
}

export async function startWsServer(
  opts: { shows?: ShowDefinition[]; ws?: Partial<Omit<WebSocketOptions, 'service' | 'logger'>>; storage?: (s: Storage) => Storage } = {},
): Promise<WsTestServer> {
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
  const storage = openMemoryStorage(logger);
  const node = createSeatNode(
    { holdTokenSecret: 'ws-test-secret-0123456789', snapshotEveryEvents: 100_000, snapshotEveryMs: 600_000 },
    opts.storage ? opts.storage(storage) : storage,
    logger,
  );
  for (const def of opts.shows ?? [showDef('s1')]) await node.service.createShow(def);
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/v1/shows')) {
      void node.service.listShows({}).then((shows) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ shows }));
      });
    } else if (!servePage(req, res)) {
      res.statusCode = 404;
      res.end();
    }
  });
  // Limits off unless a test sets them: the tests open many sockets and send many holds from
  // one loopback address.
  const ws = attachWebSocket(server, {
    service: node.service,
    logger,
    limiter: createEdgeLimiter(NO_RATE_LIMITS, { kind: 'memory' }, logger),
    maxSocketsPerAddress: 0,
    ...opts.ws,
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    node,
    ws,
    server,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    stop: async () => {
      await ws.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await node.close();
    },
  };
}

export type Frame = { type: string; [k: string]: any };

/** A `ws` client that queues parsed frames so tests can wait for the one they expect. */
export class TestClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  private seq = 0;
  readonly closed: Promise<{ code: number }>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) => ws.on('close', (code) => resolve({ code })));
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as Frame;
      const i = this.waiters.findIndex((w) => w.pred(f));
      if (i >= 0) this.waiters.splice(i, 1)[0].resolve(f);
      else this.frames.push(f);
    });
  }

  /** `headers` go on the upgrade request (X-Forwarded-For through a trusted proxy names the client). */
  static async connect(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers });
    await once(ws, 'open');
    return new TestClient(ws);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first queued or future frame matching `pred` (removed from the queue). */
  next(pred: (f: Frame) => boolean = () => true, timeoutMs = 5_000): Promise<Frame> {
    const i = this.frames.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms; queued: ${JSON.stringify(this.frames.slice(-3))}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Sends a command and waits for its `result` or `error` frame. */
  request(frame: Record<string, unknown>): Promise<Frame> {
    const requestId = `t${++this.seq}`;
    this.send({ ...frame, requestId });
    return this.next((f) => (f.type === 'result' || f.type === 'error') && f.requestId === requestId);
  }

  close(): void {
    this.ws.close();
  }
}

const STATUS_CHAR: Record<string, string> = { available: 'a', held: 'h', booked: 'b', blocked: 'x' };

/**
 * A client-side copy of a seat map built from snapshot + delta frames exactly as the
 * protocol says: apply a delta when fromVersion <= version < delta.version, ignore it when
 * already covered; a gap is recorded (a real client resubscribes).
 */
export class MapReplica {
  version = -1;
  layoutVersion = -1;
  labels: string[] = [];
  index = new Map<string, number>();
  seats: string[] = [];
  snapshots = 0;
  deltas = 0;
  gaps = 0;

  apply(f: Frame): void {
    if (f.type === 'snapshot') {
      if (f.rows) {
        this.labels = f.labels ?? [];
        if (!f.labels) for (const r of f.rows) for (let k = 0; k < r.count; k++) this.labels[r.start + k] = `${r.prefix}${r.first + k}`;
        this.index = new Map(this.labels.map((l, i) => [l, i]));
        this.layoutVersion = f.layoutVersion;
      } else if (f.layoutVersion !== this.layoutVersion) throw new Error('snapshot without layout for an unknown layout version');
      this.seats = [...(f.seats as string)];
      this.version = f.version;
      this.snapshots++;
    } else if (f.type === 'delta') {
      if (f.version <= this.version) return;
      if (f.fromVersion > this.version) {
        this.gaps++;
        return;
      }
      for (const [label, status] of f.changes as Array<[string, string]>) this.seats[this.index.get(label) as number] = STATUS_CHAR[status];
      this.version = f.version;
      this.deltas++;
    }
  }

  get compact(): string {
    return this.seats.join('');
  }
}
