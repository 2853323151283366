import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { EdgeIdentity } from '../caller.ts';
import type { Logger } from '../../logger.ts';
import type { SeatService } from '../../service/seat-service.ts';
import type { EdgeLimiter } from '../limits/index.ts';
import { Connection, type ConnectionHost } from './connection.ts';
import { CloseCode } from './constants.ts';
import { ShowChannel } from './show-channel.ts';
import { TickGovernor } from './tick-governor.ts';
import { wsMetrics } from './ws-metrics.ts';

export interface HubOptions {
  tickMs: number;
  maxTickMs: number;
  bufferedCapBytes: number;
  staleTimeoutMs: number;
  staleSweepMs: number;
  heartbeatMs: number;
  maxSubscriptions: number;
  maxBadFrames: number;
  maxInflightCommands: number;
  ringFrames: number;
  ringBytes: number;
  lingerMs: number;
  resnapshotWindowMs: number;
  maxSnapshotsPerWindow: number;
}

export interface HubStats {
  sockets: number;
  channels: number;
  staleSockets: number;
  /** Largest `bufferedAmount` over open sockets right now. */
  maxBufferedAmount: number;
  tickMs: number;
  /** Sockets terminated as slow consumers since start. */
  slowTerminated: number;
  /** Sockets terminated for missing a heartbeat since start. */
  deadTerminated: number;
}

/**
 * Every socket and show channel of one gateway, plus the timers they share: the heartbeat,
 * and the sweep that recovers or cuts off stale (slow) sockets.
 */
export class WsHub implements ConnectionHost {
  readonly service: SeatService;
  readonly logger: Logger;
  readonly limiter: EdgeLimiter;
  readonly limits: ConnectionHost['limits'];
  private readonly opts: HubOptions;
  private readonly governor: TickGovernor;
  private readonly channels = new Map<string, ShowChannel>();
  private readonly conns = new Set<Connection>();
  private readonly stale = new Set<Connection>();
  private readonly heartbeat: NodeJS.Timeout;
  private sweepTimer: NodeJS.Timeout | null = null;
  private slowTerminated = 0;
  private deadTerminated = 0;

  readonly identity: EdgeIdentity;

  constructor(service: SeatService, logger: Logger, limiter: EdgeLimiter, opts: HubOptions, identity: EdgeIdentity = new EdgeIdentity()) {
    this.service = service;
    this.logger = logger;
    this.limiter = limiter;
    this.identity = identity;
    this.opts = opts;
    this.limits = {
      bufferedCapBytes: opts.bufferedCapBytes,
      maxSubscriptions: opts.maxSubscriptions,
      maxBadFrames: opts.maxBadFrames,
      maxInflightCommands: opts.maxInflightCommands,
    };
    this.governor = new TickGovernor(opts.tickMs, opts.maxTickMs);
    wsMetrics.tickMs.set(opts.tickMs);
    this.heartbeat = setInterval(() => this.beat(), opts.heartbeatMs);
    this.heartbeat.unref();
  }

  get socketCount(): number {
    return this.conns.size;
  }

  /** Takes an upgraded socket of the client at `address` (what its rate limits count on). */
  accept(ws: WebSocket, address: string, req?: IncomingMessage): Connection {
    const conn = new Connection(ws, this, address, { peer: req?.socket.remoteAddress, forwardedFor: req?.headers['x-forwarded-for'] });
    this.conns.add(conn);
    wsMetrics.sockets.inc();
    return conn;
  }

  channelFor(showId: string): ShowChannel {
    let channel = this.channels.get(showId);
    if (!channel) {
      channel = new ShowChannel(showId, {
        service: this.service,
        logger: this.logger,
        governor: this.governor,
        ringFrames: this.opts.ringFrames,
        ringBytes: this.opts.ringBytes,
        lingerMs: this.opts.lingerMs,
        resnapshotWindowMs: this.opts.resnapshotWindowMs,
        maxSnapshotsPerWindow: this.opts.maxSnapshotsPerWindow,
        onEmpty: (c) => {
          if (this.channels.get(c.showId) === c) {
            this.channels.delete(c.showId);
            wsMetrics.channels.dec();
          }
        },
      });
      this.channels.set(showId, channel);
      wsMetrics.channels.inc();
    }
    return channel;
  }

  markStale(conn: Connection): void {
    this.stale.add(conn);
    if (!this.sweepTimer) this.sweepTimer = setInterval(() => this.sweep(), this.opts.staleSweepMs);
  }

  forget(conn: Connection): void {
    if (!this.conns.delete(conn)) return;
    this.stale.delete(conn);
    wsMetrics.sockets.dec();
  }

  /**
   * A stale socket that drained to half its cap gets fresh snapshots (the half leaves room
   * for them without tripping the cap again at once); one stuck past the timeout is cut.
   */
  private sweep(): void {
    const now = Date.now();
    for (const conn of this.stale) {
      if (conn.ws.readyState !== conn.ws.OPEN) this.stale.delete(conn);
      else if (conn.ws.bufferedAmount <= this.opts.bufferedCapBytes / 2) {
        this.stale.delete(conn);
        wsMetrics.slowConsumers.inc({ action: 'resynced' });
        conn.recover();
      } else if (now - conn.staleSince >= this.opts.staleTimeoutMs) {
        this.stale.delete(conn);
        this.slowTerminated++;
        wsMetrics.slowConsumers.inc({ action: 'terminated' });
        this.logger.debug({ bufferedAmount: conn.ws.bufferedAmount }, 'slow consumer terminated');
        conn.ws.terminate();
      }
    }
    if (this.stale.size === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
    }
  }

  /** Terminates sockets that did not answer the previous ping, then pings the rest. */
  private beat(): void {
    for (const conn of this.conns) {
      if (!conn.alive) {
        this.deadTerminated++;
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }

  stats(): HubStats {
    let maxBufferedAmount = 0;
    for (const c of this.conns) maxBufferedAmount = Math.max(maxBufferedAmount, c.ws.bufferedAmount);
    return {
      sockets: this.conns.size,
      channels: this.channels.size,
      staleSockets: this.stale.size,
      maxBufferedAmount,
      tickMs: this.governor.tickMs,
      slowTerminated: this.slowTerminated,
      deadTerminated: this.deadTerminated,
    };
  }

  /** Closes every socket with 1001 and stops every channel and timer. */
  close(): void {
    clearInterval(this.heartbeat);
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    for (const channel of [...this.channels.values()]) channel.close();
    for (const conn of this.conns) conn.ws.close(CloseCode.GOING_AWAY, 'server shutting down');
  }
}
