import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SeatDelta } from '../actors/deltas.ts';
import type { ShowReport } from '../actors/report.ts';
import type { SeatHistory } from '../actors/seat-history.ts';
import type { BookingView, ShowChanges } from '../actors/types.ts';
import type { ShowSummary, ShowView } from '../actors/views.ts';
import { ErrorCode, SeatError, asSeatError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Bus, Catalog, CatalogFilter } from '../core/ports.ts';
import type {
  BookingGranted,
  BookingListRequest,
  BookingPage,
  CallContext,
  CompactSeatMap,
  ConfirmOptions,
  CreateShowInput,
  HoldGranted,
  HoldRequest,
  SeatService,
} from '../service/seat-service.ts';
import { deltaSubject } from '../subjects.ts';
import { natsDownRefusals, routeRetries } from './cluster-metrics.ts';
import type { NatsLink } from './nats-link.ts';
import type { OutgoingOp, OwnerBatcher } from './owner-batcher.ts';
import type { Placement } from './placement.ts';
import { LayoutCache, expandSeatMap, expandView, type ShowMapWire } from './show-map-wire.ts';
import { HEAVY_METHODS, type RequestOf, type ResultOf, type RoutedMethod } from './wire.ts';

/** Retry policy of a routed op; all bounded by the op's deadline as well. */
export const MAX_ROUTE_ATTEMPTS = 20;
export const RETRY_BACKOFF_BASE_MS = 20;
export const RETRY_BACKOFF_MAX_MS = 250;

/**
 * How long the show keeps a key made up here, in multiples of the op's own time budget: the
 * key only has to outlive this gateway's retries of the op, which all end by its deadline.
 * The show keeps client keys far longer (its longest hold plus 15 minutes); made-up ones, one
 * per routed mutation, would otherwise fill its key store and push real clients' keys out.
 */
export const GENERATED_KEY_KEEP_TIMEOUTS = 2;
/** Least keep of a made-up key: covers clock skew between the workers a show moves across. */
export const GENERATED_KEY_MIN_KEEP_SECONDS = 60;

/** Seconds the show keeps a key this gateway made up for an op whose budget is `timeoutMs`. */
export function generatedKeyKeepSeconds(timeoutMs: number): number {
  return Math.max(GENERATED_KEY_MIN_KEEP_SECONDS, Math.ceil((GENERATED_KEY_KEEP_TIMEOUTS * timeoutMs) / 1000));
}

export interface RemoteSeatServiceOptions {
  placement: Placement;
  batcher: OwnerBatcher;
  /** The catalog read directly (Postgres): listing shows needs no owner. */
  catalog: Catalog;
  /** Deltas arrive on the bus from whichever worker owns the show. */
  bus: Bus;
  requestTimeoutMs: number;
  attemptTimeoutMs: number;
  /** Total time of a heavy op (HEAVY_METHODS), retries included; default: requestTimeoutMs. */
  heavyTimeoutMs?: number;
  logger: Logger;
  /** Where layouts are expanded into labels and categories; default: a cache of its own. */
  layouts?: LayoutCache;
  /** The state of the NATS connection the batcher uses; without it, requests are sent blindly. */
  link?: Pick<NatsLink, 'up' | 'waitUp'>;
  /** How long a new request waits for a lost connection before failing (default DEFAULT_NATS_DOWN_WAIT_MS). */
  natsDownWaitMs?: number;
}

/** See RemoteSeatServiceOptions.natsDownWaitMs. */
export const DEFAULT_NATS_DOWN_WAIT_MS = 500;
/** What a caller turned away while the connection is down is told to wait. */
export const NATS_DOWN_RETRY_AFTER_SECONDS = 1;

/** Codes after which the op is sent again to the owner of a fresh ring. */
const REROUTE: ReadonlySet<ErrorCode> = new Set([ErrorCode.NOT_OWNER, ErrorCode.UNAVAILABLE, ErrorCode.DEADLINE_EXCEEDED]);

/**
 * The gateway's SeatService: every show command goes to the show's owner over NATS (packed
 * with others for the same owner), and a NOT_OWNER, no-responders or timeout answer makes it
 * re-read the ring and try again with backoff and jitter, within the op's deadline, so a
 * reshuffle is invisible to clients. Mutations always carry an idempotency key (the
 * client's, or one made up here) so a retry cannot apply twice.
 *
 * Maps cross the hop compact (one status character per seat) and are expanded here, at the
 * edge, into the full view or the compact seat map, from a cached index of the layout.
 */
export class RemoteSeatService implements SeatService {
  private readonly log: Logger;
  /** Made-up idempotency keys: 96 random bits per process, then a counter (no crypto call per op). */
  private readonly keyPrefix = randomBytes(12).toString('base64url');
  private keySeq = 0;

  private readonly layouts: LayoutCache;

  constructor(private readonly opts: RemoteSeatServiceOptions) {
    this.log = opts.logger.child({ subsystem: 'router' });
    this.layouts = opts.layouts ?? new LayoutCache();
  }

  private async route<M extends RoutedMethod>(
    showId: string,
    method: M,
    req: RequestOf<M>,
    ctx?: CallContext,
    mutates = true,
  ): Promise<ResultOf<M>> {
    // Absent fields stay undefined here: JSON leaves them out, which is what the worker's schemas read.
    const heavy = HEAVY_METHODS.has(method);
    const timeoutMs = heavy ? Math.max(this.opts.requestTimeoutMs, this.opts.heavyTimeoutMs ?? 0) : this.opts.requestTimeoutMs;
    let callCtx = ctx;
    if (mutates && !ctx?.idempotencyKey)
      callCtx = {
        ...ctx,
        idempotencyKey: `rt-${this.keyPrefix}-${(this.keySeq++).toString(36)}`,
        idempotencyKeepSeconds: generatedKeyKeepSeconds(timeoutMs),
      };
    const op = (callCtx ? { showId, method, req, ctx: callCtx } : { showId, method, req }) as OutgoingOp;
    const deadline = performance.now() + timeoutMs;
    let sent = false;
    for (let attempt = 1; ; attempt++) {
      if (this.opts.link && !this.opts.link.up) await this.awaitLink(sent, deadline);
      let err: SeatError;
      const owner = this.opts.placement.owner(showId);
      if (owner === null) err = new SeatError(ErrorCode.UNAVAILABLE, 'no worker is alive', { retryAfterSeconds: 1 });
      else {
        try {
          const left = deadline - performance.now();
          // A heavy op (a stadium's create or map) may outlast one attempt on a live owner;
          // sending it again there only doubles the work. A dead owner is still noticed at
          // once: the ring drops it (abandon) or NATS answers "no responders".
          const attempt = heavy ? left : Math.min(this.opts.attemptTimeoutMs, left);
          sent = true;
          return (await this.opts.batcher.send(owner, op, Math.max(attempt, 1))) as ResultOf<M>;
        } catch (e) {
          err = asSeatError(e);
          // The owner itself said when to come back (its show is busy, its bookings table is
          // down): asking again within this request only adds load, so the caller hears it now.
          if (err.code === ErrorCode.UNAVAILABLE && err.details.retryAfterSeconds !== undefined) throw err;
        }
      }
      if (!REROUTE.has(err.code)) throw err;
      const left = deadline - performance.now();
      if (attempt >= MAX_ROUTE_ATTEMPTS || left <= 0) {
        this.log.warn({ showId, method, attempt, code: err.code }, 'routing gave up');
        throw err.code === ErrorCode.NOT_OWNER
          ? new SeatError(ErrorCode.UNAVAILABLE, 'the show is moving; retry', { retryAfterSeconds: 1 }, { cause: err })
          : err;
      }
      routeRetries.inc({ reason: err.code });
      const backoff = Math.min(RETRY_BACKOFF_MAX_MS, RETRY_BACKOFF_BASE_MS * 2 ** (attempt - 1));
      await Promise.all([this.opts.placement.refresh().catch(() => undefined), sleep(Math.min(left, backoff * (0.5 + Math.random() / 2)))]);
    }
  }

  /**
   * The NATS connection is down. A request that never left waits briefly (a blip heals) and
   * then fails fast, 503 with Retry-After, instead of holding the caller for its whole
   * deadline. One that was in flight when the connection dropped may have been done: it
   * waits for the connection within its deadline and is resent under the same key.
   */
  private async awaitLink(sent: boolean, deadline: number): Promise<void> {
    const link = this.opts.link!;
    const left = deadline - performance.now();
    const wait = sent ? left : Math.min(left, this.opts.natsDownWaitMs ?? DEFAULT_NATS_DOWN_WAIT_MS);
    if (await link.waitUp(wait)) return;
    natsDownRefusals.inc({ in_flight: sent ? 'yes' : 'no' });
    throw new SeatError(ErrorCode.UNAVAILABLE, 'the cluster cannot reach its shows right now (messaging down); retry shortly', {
      retryAfterSeconds: NATS_DOWN_RETRY_AFTER_SECONDS,
    });
  }

  private view(wire: ShowMapWire): ShowView {
    return expandView(wire, this.layouts.indexOf(wire.head));
  }

  async createShow(input: CreateShowInput, ctx?: CallContext): Promise<ShowView> {
    return this.view(await this.route(input.id, 'createShow', { input }, ctx));
  }
  async getShow(showId: string): Promise<ShowView> {
    return this.view(await this.route(showId, 'readMap', {}, undefined, false));
  }
  async getSeatMap(showId: string): Promise<CompactSeatMap> {
    const wire = await this.route(showId, 'readMap', {}, undefined, false);
    return expandSeatMap(wire, this.layouts.indexOf(wire.head));
  }
  listShows(filter: CatalogFilter): Promise<ShowSummary[]> {
    return this.opts.catalog.list(filter);
  }
  async changeShow(showId: string, changes: ShowChanges, ctx?: CallContext): Promise<ShowView> {
    return this.view(await this.route(showId, 'changeShow', { changes }, ctx));
  }
  cancelShow(showId: string, reason: string | undefined, ctx?: CallContext): Promise<{ refunds: BookingView[]; releasedHolds: string[] }> {
    return this.route(showId, 'cancelShow', { reason }, ctx);
  }
  async blockSeats(showId: string, seats: string[], ctx?: CallContext): Promise<void> {
    await this.route(showId, 'blockSeats', { seats }, ctx);
  }
  async unblockSeats(showId: string, seats: string[], ctx?: CallContext): Promise<void> {
    await this.route(showId, 'unblockSeats', { seats }, ctx);
  }
  hold(showId: string, req: HoldRequest, ctx?: CallContext): Promise<HoldGranted> {
    return this.route(showId, 'hold', { ...req }, ctx);
  }
  extendHold(
    showId: string,
    holdId: string,
    holdToken: string,
    ttlSeconds: number | undefined,
    ctx?: CallContext,
  ): Promise<{ holdId: string; expiresAt: string }> {
    return this.route(showId, 'extendHold', { holdId, holdToken, ttlSeconds }, ctx);
  }
  confirm(
    showId: string,
    holdId: string,
    holdToken: string,
    { paymentRef, expectedTotal }: ConfirmOptions,
    ctx?: CallContext,
  ): Promise<BookingGranted> {
    return this.route(showId, 'confirm', { holdId, holdToken, paymentRef, expectedTotal }, ctx);
  }
  async release(showId: string, holdId: string, holdToken: string, ctx?: CallContext): Promise<void> {
    await this.route(showId, 'release', { holdId, holdToken }, ctx);
  }
  getBooking(showId: string, bookingId: string, bookingToken?: string): Promise<BookingView> {
    return this.route(showId, 'getBooking', bookingToken !== undefined ? { bookingId, bookingToken } : { bookingId }, undefined, false);
  }
  cancelBookings(
    showId: string,
    bookingIds: string[],
    ctx?: CallContext,
    opts: { refundPercent?: number | undefined } = {},
  ): Promise<BookingView[]> {
    return this.route(
      showId,
      'cancelBookings',
      opts.refundPercent !== undefined ? { bookingIds, refundPercent: opts.refundPercent } : { bookingIds },
      ctx,
    );
  }
  cancelOwnBooking(showId: string, bookingId: string, bookingToken: string, ctx?: CallContext): Promise<BookingView> {
    return this.route(showId, 'cancelOwnBooking', { bookingId, bookingToken }, ctx);
  }
  listBookings(showId: string, req: BookingListRequest): Promise<BookingPage> {
    // Only the fields given: JSON leaves undefined out, and the worker's schema is strict.
    const q = Object.fromEntries(Object.entries(req).filter(([, v]) => v !== undefined)) as BookingListRequest;
    return this.route(showId, 'listBookings', q, undefined, false);
  }

  watch(showId: string, listener: (delta: SeatDelta) => void): () => void {
    return this.opts.bus.subscribe(deltaSubject(showId), (message) => listener(message as SeatDelta));
  }

  getReport(showId: string): Promise<ShowReport> {
    return this.route(showId, 'getReport', {}, undefined, false);
  }
  getSeatHistory(showId: string, seatId: string): Promise<SeatHistory> {
    return this.route(showId, 'getSeatHistory', { seatId }, undefined, false);
  }
}
