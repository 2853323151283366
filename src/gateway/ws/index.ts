import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../logger.ts';
import type { SeatService } from '../../service/seat-service.ts';
import type { EdgeIdentity } from '../caller.ts';
import * as C from './constants.ts';
import { WsHub, type HubOptions, type HubStats } from './hub.ts';

export { CloseCode, ServerFrameType, WS_PATH } from './constants.ts';
export type { HubStats } from './hub.ts';

export interface WebSocketOptions extends Partial<HubOptions> {
  service: SeatService;
  logger: Logger;
  /** Largest client frame in bytes; larger frames close the socket with 1009. */
  maxPayloadBytes?: number;
  maxSockets?: number;
  path?: string;
  /** Who calls (trusted proxies, customer tokens); default: the socket peer, no tokens. */
  identity?: EdgeIdentity;
}

export interface WebSocketGateway {
  stats(): HubStats;
  /** Closes every socket (1001), stops watching shows and detaches from the server. */
  close(): Promise<void>;
}

function reject(socket: Duplex, status: number, reason: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Serves the WebSocket protocol (see protocol.ts) at `/v1/ws` on an existing HTTP server.
 * Upgrades for any other path are refused with 404.
 */
export function attachWebSocket(server: Server, options: WebSocketOptions): WebSocketGateway {
  const logger = options.logger.child({ subsystem: 'ws' });
  const path = options.path ?? C.WS_PATH;
  const maxSockets = options.maxSockets ?? C.DEFAULT_MAX_SOCKETS;
  const hub = new WsHub(options.service, logger, {
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
  }, options.identity);
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
    if (hub.socketCount >= maxSockets) return reject(socket, 503, 'Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => hub.accept(ws, req));
  };
  server.on('upgrade', onUpgrade);

  let closed: Promise<void> | null = null;
  return {
    stats: () => hub.stats(),
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
