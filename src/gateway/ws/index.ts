import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../logger.ts';
import type { SeatService } from '../../service/seat-service.ts';
import type { EdgeIdentity } from '../caller.ts';
import { clientAddress } from '../client-address.ts';
import {
  AddressSlots,
  createEdgeLimiter,
  DEFAULT_EDGE_LIMITS,
  DEFAULT_WS_MAX_SOCKETS_PER_ADDRESS,
  openFileLimit,
  originAllowed,
  socketCapFor,
  type EdgeLimiter,
} from '../limits/index.ts';
import * as C from './constants.ts';
import { WsHub, type HubOptions, type HubStats } from './hub.ts';

export { CloseCode, ServerFrameType, WS_PATH } from './constants.ts';
export type { HubStats } from './hub.ts';

export interface WebSocketOptions extends Partial<HubOptions> {
  service: SeatService;
  logger: Logger;
  /** Largest client frame in bytes; larger frames close the socket with 1009. */
  maxPayloadBytes?: number;
  /** Sockets this gateway serves at once; lowered to fit below the process's file limit. */
  maxSockets?: number;
  /** Sockets one client address may hold open; 0: no per-address cap. */
  maxSocketsPerAddress?: number;
  /** Origins whose pages may connect (`*`: any); the server's own origin always may. */
  allowedOrigins?: readonly string[];
  /** Peers whose X-Forwarded-For names the client. */
  trustedProxies?: readonly string[];
  /** Rate limits on commands; default: the product defaults, counted in this process. */
  limiter?: EdgeLimiter;
  path?: string;
  /** Who calls (trusted proxies, customer tokens); default: the socket peer, no tokens. */
  identity?: EdgeIdentity;
}

export interface WebSocketGateway {
  stats(): HubStats;
  /** The socket caps in force (the total after fitting it below the file limit). */
  readonly caps: { maxSockets: number; maxSocketsPerAddress: number };
  /** Closes every socket (1001), stops watching shows and detaches from the server. */
  close(): Promise<void>;
}

/** Seconds a client refused for its socket count is told to wait before trying again. */
const SOCKET_RETRY_AFTER_SECONDS = 5;

function reject(socket: Duplex, status: number, reason: string, extraHeaders = ''): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n${extraHeaders}Content-Length: 0\r\n\r\n`);
}

/**
 * Serves the WebSocket protocol (see protocol.ts) at `/v1/ws` on an existing HTTP server.
 * Upgrades for any other path are refused with 404, from a page of a foreign origin with 403,
 * over the client's socket share with 429 and over the gateway's socket cap with 503, all
 * before the upgrade completes.
 */
export function attachWebSocket(server: Server, options: WebSocketOptions): WebSocketGateway {
  const logger = options.logger.child({ subsystem: 'ws' });
  const path = options.path ?? C.WS_PATH;
  const maxSockets = socketCapFor(options.maxSockets ?? C.DEFAULT_MAX_SOCKETS, openFileLimit());
  const slots = new AddressSlots(maxSockets, options.maxSocketsPerAddress ?? DEFAULT_WS_MAX_SOCKETS_PER_ADDRESS);
  const allowedOrigins = options.allowedOrigins ?? [];
  const trustedProxies = options.trustedProxies ?? [];
  const limiter = options.limiter ?? createEdgeLimiter(DEFAULT_EDGE_LIMITS, { kind: 'memory' }, options.logger);
  const hub = new WsHub(
    options.service,
    logger,
    limiter,
    {
      tickMs: options.tickMs ?? C.DEFAULT_TICK_MS,
      maxTickMs: options.maxTickMs ?? C.DEFAULT_MAX_TICK_MS,
      bufferedCapBytes: options.bufferedCapBytes ?? C.DEFAULT_BUFFERED_CAP_BYTES,
      staleTimeoutMs: options.staleTimeoutMs ?? C.DEFAULT_STALE_TIMEOUT_MS,
      staleSweepMs: options.staleSweepMs ?? C.DEFAULT_STALE_SWEEP_MS,
      heartbeatMs: options.heartbeatMs ?? C.DEFAULT_HEARTBEAT_MS,
      maxSubscriptions: options.maxSubscriptions ?? C.DEFAULT_MAX_SUBSCRIPTIONS_PER_SOCKET,
      maxBadFrames: options.maxBadFrames ?? C.DEFAULT_MAX_BAD_FRAMES,
      maxInflightCommands: options.maxInflightCommands ?? C.DEFAULT_MAX_INFLIGHT_COMMANDS,
      ringFrames: options.ringFrames ?? C.DEFAULT_RING_FRAMES,
      ringBytes: options.ringBytes ?? C.DEFAULT_RING_BYTES,
      lingerMs: options.lingerMs ?? C.DEFAULT_CHANNEL_LINGER_MS,
      resnapshotWindowMs: options.resnapshotWindowMs ?? C.DEFAULT_RESNAPSHOT_WINDOW_MS,
      maxSnapshotsPerWindow: options.maxSnapshotsPerWindow ?? C.DEFAULT_MAX_SNAPSHOTS_PER_WINDOW,
    },
    options.identity,
  );
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayloadBytes ?? C.DEFAULT_MAX_PAYLOAD_BYTES,
    // Compression would cost CPU per socket and defeat serialize-once fan-out.
    perMessageDeflate: false,
    clientTracking: false,
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = (req.url ?? '').split('?', 1)[0];
    if (pathname !== path) return reject(socket, 404, 'Not Found');
    if (!originAllowed(req.headers.origin, req.headers.host, allowedOrigins)) {
      logger.debug({ origin: req.headers.origin }, 'upgrade from a foreign origin refused');
      return reject(socket, 403, 'Forbidden');
    }
    const address = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trustedProxies);
    const refused = slots.refusal(address);
    if (refused === 'full') return reject(socket, 503, 'Service Unavailable', `Retry-After: ${SOCKET_RETRY_AFTER_SECONDS}\r\n`);
    if (refused === 'address') return reject(socket, 429, 'Too Many Requests', `Retry-After: ${SOCKET_RETRY_AFTER_SECONDS}\r\n`);
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Upgrades finishing together may have passed the check above together.
      if (slots.take(address) !== null) return ws.close(C.CloseCode.TRY_AGAIN_LATER, 'too many sockets');
      ws.once('close', () => slots.give(address));
      hub.accept(ws, address, req);
    });
  };
  server.on('upgrade', onUpgrade);

  let closed: Promise<void> | null = null;
  return {
    stats: () => hub.stats(),
    caps: { maxSockets: slots.total, maxSocketsPerAddress: slots.perAddress },
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.off('upgrade', onUpgrade);
        hub.close();
        wss.close(() => resolve());
      });
      return closed;
    },
  };
}
