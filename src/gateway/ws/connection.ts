import { WebSocket, type RawData } from 'ws';
import { ErrorCode, SeatError, asSeatError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { SeatService } from '../../service/seat-service.ts';
import type { CallerClaims, EdgeIdentity } from '../caller.ts';
import type { EdgeLimiter } from '../limits/index.ts';
import { runCommand } from './commands.ts';
import { toErrorFrame } from './error-mapping.ts';
import { BAD_FRAME_WINDOW_MS, CloseCode } from './constants.ts';
import { ClientFrame, zodFields, type CommandFrame, type ErrorFrameShape } from './protocol.ts';
import type { Carry, ShowChannel, Watcher } from './show-channel.ts';
import { wsMetrics } from './ws-metrics.ts';

/** What a connection needs from the hub that owns it. */
export interface ConnectionHost {
  service: SeatService;
  logger: Logger;
  identity: EdgeIdentity;
  /** Counts hold commands per client address and customer, like the other doors. */
  limiter: EdgeLimiter;
  limits: {
    bufferedCapBytes: number;
    maxSubscriptions: number;
    maxBadFrames: number;
    maxInflightCommands: number;
  };
  channelFor(showId: string): ShowChannel;
  /** The socket went over its buffer cap: watch it until it drains or times out. */
  markStale(conn: Connection): void;
  forget(conn: Connection): void;
}

const TEXT = { binary: false, compress: false } as const;

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function requestIdOf(raw: unknown): string | undefined {
  const id = typeof raw === 'object' && raw !== null ? (raw as { requestId?: unknown }).requestId : undefined;
  return typeof id === 'string' && id.length > 0 && id.length <= 64 ? id : undefined;
}

/**
 * One client socket: parses and validates its frames, keeps its subscriptions, runs its
 * commands, and applies backpressure both ways (buffer cap on what we send, a bound on
 * commands in flight for what it sends).
 */
export class Connection implements Watcher {
  readonly ws: WebSocket;
  /** The client address the upgrade came from (X-Forwarded-For behind a trusted proxy). */
  readonly address: string;
  private readonly host: ConnectionHost;
  private readonly subs = new Map<string, ShowChannel>();
  /** Where recently ended subscriptions left this socket, so a quick resubscribe continues (bounded). */
  private readonly ended = new Map<string, Carry>();
  /** Cleared by each heartbeat, set by a pong or any frame. */
  alive = true;
  /** When the socket went over its cap; 0 while it is not stale. */
  staleSince = 0;
  private badFrames = 0;
  private badWindowStart = Date.now();
  private inflight = 0;
  /** Who is at the other end, read from the upgrade request; every command's caller starts here. */
  private readonly peer: Pick<CallerClaims, 'peer' | 'forwardedFor'>;

  constructor(
    ws: WebSocket,
    host: ConnectionHost,
    address: string,
    peer: Pick<CallerClaims, 'peer' | 'forwardedFor'> = { peer: undefined, forwardedFor: undefined },
  ) {
    this.ws = ws;
    this.address = address;
    this.host = host;
    this.peer = peer;
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('error', (err) => host.logger.debug({ err }, 'socket error'));
    ws.on('close', () => this.onClose());
  }

  get stale(): boolean {
    return this.staleSince !== 0;
  }

  get subscriptionCount(): number {
    return this.subs.size;
  }

  trySend(frame: Buffer): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    const buffered = this.ws.bufferedAmount;
    if (this.stale || (buffered > 0 && buffered + frame.length > this.host.limits.bufferedCapBytes)) {
      this.becomeStale();
      return false;
    }
    this.ws.send(frame, TEXT);
    return true;
  }

  forceSend(frame: Buffer): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(frame, TEXT);
  }

  sendJson(frame: object, type: string): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(frame), TEXT);
    wsMetrics.framesSent.inc({ type });
  }

  subscriptionFailed(showId: string, err: SeatError): void {
    this.subs.delete(showId);
    this.sendError(err, undefined, showId);
  }

  /** Drained below the cap: fresh snapshots for what was skipped, and reading resumes. */
  recover(): void {
    this.staleSince = 0;
    for (const channel of this.subs.values()) channel.recover(this);
    this.maybeResume();
  }

  private becomeStale(): void {
    if (this.staleSince === 0) {
      this.staleSince = Date.now();
      this.host.markStale(this);
    }
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    this.alive = true;
    if (isBinary) return this.bad(undefined, 'binary frames are not supported');
    let raw: unknown;
    try {
      raw = JSON.parse(textOf(data));
    } catch {
      return this.bad(undefined, 'the frame is not valid JSON');
    }
    const parsed = ClientFrame.safeParse(raw);
    if (!parsed.success) return this.bad(requestIdOf(raw), 'invalid frame', zodFields(parsed.error));
    const f = parsed.data;
    switch (f.type) {
      case 'subscribe':
        this.subscribe(f.showId, {
          ...(f.fromVersion !== undefined ? { fromVersion: f.fromVersion } : {}),
          ...(f.layoutVersion !== undefined ? { layoutVersion: f.layoutVersion } : {}),
        });
        break;
      case 'unsubscribe':
        this.unsubscribe(f.showId);
        break;
      case 'hold':
      case 'extend':
      case 'confirm':
      case 'release':
        void this.command(f);
        break;
      default: {
        const unreachable: never = f;
        throw new Error(`unhandled frame ${(unreachable as ClientFrame).type}`);
      }
    }
    // A client that sends without reading its answers is a slow consumer too.
    if (this.ws.bufferedAmount > this.host.limits.bufferedCapBytes) {
      this.becomeStale();
      this.ws.pause();
    }
  }

  private unsubscribe(showId: string): void {
    const carry = this.subs.get(showId)?.remove(this);
    this.subs.delete(showId);
    this.ended.delete(showId);
    if (!carry) return;
    this.ended.set(showId, carry);
    // As many as it may subscribe to: the oldest goes first.
    for (const key of this.ended.keys()) {
      if (this.ended.size <= this.host.limits.maxSubscriptions) break;
      this.ended.delete(key);
    }
  }

  private subscribe(showId: string, request: { fromVersion?: number; layoutVersion?: number }): void {
    const existing = this.subs.get(showId);
    if (existing) {
      // Resubscribing (after a gap) restarts the subscription on the same channel.
      existing.add(this, request);
      return;
    }
    if (this.subs.size >= this.host.limits.maxSubscriptions) {
      this.sendError(
        new SeatError(ErrorCode.TOO_MANY_SUBSCRIPTIONS, `at most ${this.host.limits.maxSubscriptions} subscriptions per socket`),
        undefined,
        showId,
      );
      return;
    }
    const channel = this.host.channelFor(showId);
    this.subs.set(showId, channel);
    const carry = this.ended.get(showId);
    this.ended.delete(showId);
    channel.add(this, request, carry);
  }

  private async command(f: CommandFrame): Promise<void> {
    if (++this.inflight >= this.host.limits.maxInflightCommands) this.ws.pause();
    try {
      if (f.type === 'hold') await this.host.limiter.hold('ws', this.address, f.customerId);
      // A result goes only to the socket that asked: requestIds are this socket's own labels
      // and are never looked up anywhere else, so another socket's equal id cannot reach it.
      const reply = await runCommand(this.host.service, f, (customerId, customerToken) =>
        this.host.identity.context({ ...this.peer, customerId, customerToken }, f.idempotencyKey),
      );
      this.sendJson({ type: 'result', requestId: f.requestId, op: f.type, ...reply }, 'result');
    } catch (err) {
      const e = asSeatError(err);
      if (e.code === ErrorCode.INTERNAL) this.host.logger.error({ err, op: f.type, showId: f.showId }, 'command failed');
      this.sendError(e, f.requestId);
    } finally {
      this.inflight--;
      this.maybeResume();
    }
  }

  private maybeResume(): void {
    if (this.ws.isPaused && !this.stale && this.inflight < this.host.limits.maxInflightCommands) this.ws.resume();
  }

  private bad(requestId: string | undefined, message: string, fields?: ErrorFrameShape['fields']): void {
    wsMetrics.badFrames.inc();
    const now = Date.now();
    if (now - this.badWindowStart > BAD_FRAME_WINDOW_MS) {
      this.badWindowStart = now;
      this.badFrames = 0;
    }
    if (++this.badFrames > this.host.limits.maxBadFrames) {
      this.ws.close(CloseCode.POLICY_VIOLATION, 'too many invalid frames');
      return;
    }
    this.sendError(new SeatError(ErrorCode.INVALID_ARGUMENT, message, fields ? { fields } : {}), requestId);
  }

  private sendError(err: SeatError, requestId?: string, showId?: string): void {
    this.sendJson(toErrorFrame(err, requestId, showId), 'error');
  }

  private onClose(): void {
    for (const channel of this.subs.values()) channel.remove(this);
    this.subs.clear();
    this.ended.clear();
    this.host.forget(this);
  }
}
