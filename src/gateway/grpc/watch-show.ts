import type { handleServerStreamingCall, ServerWritableStream } from '@grpc/grpc-js';
import type { SeatDelta } from '../../actors/deltas.ts';
import { ErrorCode, SeatError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { CompactSeatMap, SeatService } from '../../service/seat-service.ts';
import { AddressSlots, DEFAULT_GRPC_MAX_WATCH_STREAMS, DEFAULT_GRPC_MAX_WATCH_STREAMS_PER_ADDRESS } from '../limits/index.ts';
import { callAddress, deadlinePassed, logFailure } from './handlers.ts';
import { deltaMessage, seatMapMessage } from './messages.ts';
import * as schema from './validation.ts';

/** Deltas kept while a snapshot is being read; past this the watcher gets another snapshot. */
export const MAX_BUFFERED_DELTAS = 1_000;
/** What a client over its stream share is told to wait: streams end when clients let go. */
const WATCH_RETRY_AFTER_SECONDS = 5;

export interface WatchLimits {
  /** Watch streams one server serves at once; each holds a subscription and a write buffer. */
  maxWatchers: number;
  /** Streams one client address may hold open (0: no per-address cap; never more than half of maxWatchers). */
  maxWatchersPerAddress: number;
  /**
   * Delta bytes written to a stream but not yet taken by HTTP/2 flow control. Past this the
   * client is not keeping up: deltas are dropped and one fresh snapshot follows once the
   * stream has flushed. Counted in bytes, not grpc-js's 16-message high-water mark, so a
   * burst of small deltas to a healthy client does not cost it a snapshot.
   */
  maxPendingDeltaBytes: number;
}

export const DEFAULT_WATCH_LIMITS: WatchLimits = {
  maxWatchers: DEFAULT_GRPC_MAX_WATCH_STREAMS,
  maxWatchersPerAddress: DEFAULT_GRPC_MAX_WATCH_STREAMS_PER_ADDRESS,
  maxPendingDeltaBytes: 256 * 1024,
};

type WatchCall = ServerWritableStream<unknown, Buffer>;

/**
 * - snapshotting: a seat map is being read; deltas are buffered (bounded).
 * - live: deltas are written as they commit.
 * - blocked: the client is not reading (too many delta bytes unflushed); deltas are dropped
 *   and a fresh snapshot goes out once everything written has flushed, so a slow watcher
 *   costs one snapshot, never a backlog.
 */
type Mode = 'snapshotting' | 'live' | 'blocked';

/**
 * One WatchShow stream. The watcher only ever receives a delta whose from_version equals
 * the version it holds; anything else (a gap, a layout change, dropped deltas) becomes a
 * fresh snapshot. Concurrency: runs on the event loop; at most one snapshot read at a time.
 */
class ShowWatch {
  private mode: Mode = 'snapshotting';
  private version = -1;
  private buffered: SeatDelta[] = [];
  private missed = false;
  private closed = false;
  private pendingBytes = 0;
  private pendingDeltaBytes = 0;
  private unsubscribe: () => void = () => {};

  constructor(
    private readonly call: WatchCall,
    readonly showId: string,
    readonly address: string,
    private readonly registry: WatchRegistry,
  ) {}

  start(fromVersion: number | undefined): void {
    // Subscribe before the first read: a commit between the two is buffered, not lost.
    this.unsubscribe = this.registry.service.watch(this.showId, (d) => this.onDelta(d));
    this.call.on('cancelled', () => this.close());
    this.call.on('close', () => this.close());
    void this.snapshot(fromVersion);
  }

  /** Ends the stream with status OK (server shutdown). */
  end(): void {
    if (this.closed) return;
    this.close();
    this.call.end();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.buffered = [];
    this.registry.forget(this);
  }

  private onDelta(d: SeatDelta): void {
    if (this.closed) return;
    if (this.mode === 'live') this.apply(d);
    else if (this.mode === 'blocked') this.missed = true;
    else if (this.buffered.length < MAX_BUFFERED_DELTAS) this.buffered.push(d);
    else {
      this.buffered = [];
      this.missed = true;
    }
  }

  private apply(d: SeatDelta): void {
    if (d.version <= this.version) return; // already inside the snapshot the watcher holds
    if (d.resync || d.fromVersion !== this.version) {
      void this.snapshot();
      return;
    }
    this.version = d.version;
    this.write(this.registry.encodeDelta(d), true);
  }

  /** Writes encoded bytes, counting them until grpc-js hands them to HTTP/2. */
  private write(bytes: Buffer, isDelta: boolean): void {
    const size = bytes.length;
    this.pendingBytes += size;
    if (isDelta) this.pendingDeltaBytes += size;
    this.call.write(bytes, () => {
      this.pendingBytes -= size;
      if (isDelta) this.pendingDeltaBytes -= size;
      if (this.mode === 'blocked' && this.pendingBytes === 0 && !this.closed) {
        if (this.missed) void this.snapshot();
        else this.mode = 'live';
      }
    });
    if (this.pendingDeltaBytes > this.registry.limits.maxPendingDeltaBytes) this.mode = 'blocked';
  }

  /** Reads the seat map and sends it, unless the watcher already holds `skipIfAt`. */
  private async snapshot(skipIfAt?: number): Promise<void> {
    this.mode = 'snapshotting';
    this.missed = false;
    this.buffered = [];
    let map;
    try {
      map = await this.registry.service.getSeatMap(this.showId);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.closed) return;
    this.version = map.version;
    this.mode = 'live';
    if (skipIfAt !== map.version) this.write(this.registry.encodeSnapshot(map), false);
    const pending = this.buffered;
    this.buffered = [];
    for (let i = 0; i < pending.length && !this.closed; i++) {
      if (this.mode === 'live') this.apply(pending[i]);
      else if (this.mode === 'blocked') {
        this.missed = pending.slice(i).some((d) => d.version > this.version);
        break;
      } else break; // a new snapshot is being read; it covers the rest
    }
    if (this.mode === 'live' && this.missed) void this.snapshot();
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    const { code, details, metadata } = logFailure(this.registry.logger, 'WatchShow', err);
    this.close();
    this.call.emit('error', { code, details, metadata });
  }
}

/** Every WatchShow stream of one server: the handler, the shared encode cache, shutdown. */
export class WatchRegistry {
  private readonly active = new Set<ShowWatch>();
  /** One delta is encoded once, whatever the number of streams watching its show. */
  private readonly encoded = new WeakMap<SeatDelta, Buffer>();
  private readonly snapshots = new Map<string, { version: number; bytes: Buffer }>();
  private readonly watchersByShow = new Map<string, number>();

  readonly limits: WatchLimits;
  /** Streams counted in total and per client address. */
  readonly slots: AddressSlots;

  constructor(
    readonly service: SeatService,
    readonly logger: Logger,
    readonly encode: (update: object) => Buffer,
    limits: Partial<WatchLimits> = {},
    private readonly trustedProxies: readonly string[] = [],
  ) {
    this.limits = { ...DEFAULT_WATCH_LIMITS, ...limits };
    this.slots = new AddressSlots(this.limits.maxWatchers, this.limits.maxWatchersPerAddress);
  }

  get size(): number {
    return this.active.size;
  }

  encodeDelta(d: SeatDelta): Buffer {
    let bytes = this.encoded.get(d);
    if (!bytes) {
      bytes = this.encode({ delta: deltaMessage(d) });
      this.encoded.set(d, bytes);
    }
    return bytes;
  }

  /**
   * Watchers resynced together (a burst of slow readers, a layout change) mostly need the
   * same version: encoding a 100,000-seat map costs ~60 ms, so the latest one per watched
   * show is kept and reused.
   */
  encodeSnapshot(map: CompactSeatMap): Buffer {
    const hit = this.snapshots.get(map.showId);
    if (hit?.version === map.version) return hit.bytes;
    const bytes = this.encode({ snapshot: seatMapMessage(map) });
    if (this.watchersByShow.has(map.showId)) this.snapshots.set(map.showId, { version: map.version, bytes });
    return bytes;
  }

  private add(watch: ShowWatch): void {
    this.active.add(watch);
    this.watchersByShow.set(watch.showId, (this.watchersByShow.get(watch.showId) ?? 0) + 1);
  }

  forget(watch: ShowWatch): void {
    if (!this.active.delete(watch)) return;
    this.slots.give(watch.address);
    const left = (this.watchersByShow.get(watch.showId) ?? 1) - 1;
    if (left > 0) this.watchersByShow.set(watch.showId, left);
    else {
      this.watchersByShow.delete(watch.showId);
      this.snapshots.delete(watch.showId);
    }
  }

  readonly handler: handleServerStreamingCall<unknown, Buffer> = (call) => {
    try {
      if (deadlinePassed(call)) throw new SeatError(ErrorCode.DEADLINE_EXCEEDED, 'the deadline passed before the call started');
      const req = schema.parse(schema.WatchShowRequest, call.request);
      const address = callAddress(call, this.trustedProxies);
      const refused = this.slots.take(address);
      if (refused === 'full') throw new SeatError(ErrorCode.UNAVAILABLE, 'too many watchers on this gateway', { retryAfterSeconds: 1 });
      // One client's share is capped so it cannot take every slot from everyone else.
      if (refused === 'address')
        throw new SeatError(ErrorCode.TOO_MANY_SUBSCRIPTIONS, `at most ${this.slots.perAddress} WatchShow streams per client address`, {
          retryAfterSeconds: WATCH_RETRY_AFTER_SECONDS,
        });
      const watch = new ShowWatch(call, req.show_id, address, this);
      this.add(watch);
      watch.start(req.from_version);
    } catch (err) {
      const { code, details, metadata } = logFailure(this.logger, 'WatchShow', err);
      call.emit('error', { code, details, metadata });
    }
  };

  /** Ends every stream with OK so a graceful shutdown does not wait for watchers. */
  endAll(): void {
    for (const watch of [...this.active]) watch.end();
  }
}
