import { createHash } from 'node:crypto';
import type { ActorHost } from '../actors/actor-host.ts';
import { DEFAULT_LIMITS, DEFAULT_OFFERS } from '../actors/defaults.ts';
import type { SeatDelta } from '../actors/deltas.ts';
import type { CommandReply, ReplyFor, ShowCommand, ShowCommandType } from '../actors/types.ts';
import { bookingView, showView } from '../actors/views.ts';
import { showReport, type ShowReport } from '../actors/report.ts';
import type { SeatHistory } from '../actors/seat-history.ts';
import { readSeatHistory } from './seat-history-reader.ts';
import { ErrorCode, SeatError, isSeatErrorCode } from '../errors.ts';
import { matchesBookingQuery } from '../core/booking-query.ts';
import type { BookingQuery, BookingStore, Bus, Catalog, EventLog, SnapshotStore } from '../core/ports.ts';
import { deltaSubject } from '../subjects.ts';
import type { HoldTokens } from './hold-tokens.ts';
import { newId } from './random-ids.ts';
import {
  DEFAULT_BOOKING_PAGE,
  MAX_BOOKING_PAGE,
  type BookingGranted,
  type BookingListRequest,
  type BookingPage,
  type CallContext,
  type ConfirmOptions,
  type CreateShowInput,
  type SeatService,
} from './seat-service.ts';
import type { BookingView } from '../actors/types.ts';
import { ViewCache, type SerializedView, type ViewCacheOptions, type ViewForm } from './view-cache.ts';

// Hold and booking ids stay unguessable (128 random bits; README: a booking id alone reads a
// booking): pooled randomness, not a counter.
export { newId } from './random-ids.ts';

/**
 * The key the show remembers for a request. It belongs to its caller: the caller and the key
 * are hashed together, so another caller sending the same key and body never receives this
 * caller's answer (a hold id and its token, a booking), and no client address is written to
 * the event log. Hold-scoped commands put the hold id in the scope, so one key reused for
 * another hold does not get that hold's answer. The show fingerprints each request under its
 * key: the same caller's key with another body is refused (IDEMPOTENCY_MISMATCH).
 */
function idem(ctx: CallContext | undefined, scope: string): { idem?: string; idemKeepSeconds?: number } {
  if (!ctx?.idempotencyKey) return {};
  const key = `${scope}:${fingerprint([ctx.caller ?? '', ctx.idempotencyKey])}`;
  const keep = ctx.idempotencyKeepSeconds;
  return keep !== undefined && keep > 0 ? { idem: key, idemKeepSeconds: keep } : { idem: key };
}

function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 22);
}

/** The SeatService of a process that owns its shows: calls go straight to the local actors. */
export class LocalSeatService implements SeatService {
  /** Serialized views, one per show and form, shared by every reader of that version. */
  readonly views: ViewCache;

  constructor(
    private readonly host: ActorHost,
    private readonly catalog: Catalog,
    private readonly bus: Bus,
    private readonly tokens: HoldTokens,
    /** Where bookings the shows no longer keep in memory are read from (null: they keep them all). */
    private readonly archive: Pick<BookingStore, 'get' | 'list'> | null,
    viewCache: Partial<ViewCacheOptions> = {},
    /**
     * Where seat histories are read: the plain log and snapshots. Default: the host's, which
     * may be wrapped with hooks that run on every read (booking repair) a history should not run.
     */
    private readonly historySources?: { log: EventLog; snapshots: SnapshotStore },
  ) {
    this.views = new ViewCache((showId, fn) => host.read(showId, fn), viewCache);
  }

  private async run<T extends ShowCommandType>(
    showId: string,
    cmd: Extract<ShowCommand, { type: T }>,
    ctx?: CallContext,
  ): Promise<ReplyFor<T>> {
    const reply: CommandReply = await this.host.execute(showId, cmd, ctx?.deadline !== undefined ? { deadline: ctx.deadline } : {});
    return reply as ReplyFor<T>;
  }

  private checkToken(showId: string, holdId: string, token: string): void {
    if (!this.tokens.verify(showId, holdId, token)) throw new SeatError(ErrorCode.FORBIDDEN, 'the hold token does not match this hold');
  }

  async createShow(input: CreateShowInput, ctx?: CallContext) {
    const { blockedSeats, limits, offers, ...rest } = input;
    const def = { ...rest, limits: { ...DEFAULT_LIMITS, ...limits }, offers: { ...DEFAULT_OFFERS, ...offers } };
    await this.run(def.id, { type: 'createShow', def, ...(blockedSeats ? { blockedSeats } : {}) }, ctx);
    return this.getShow(def.id);
  }

  getShow(showId: string) {
    return this.host.read(showId, showView);
  }

  getSeatMap(showId: string) {
    return this.views.compactObject(showId);
  }

  readView(showId: string, form: ViewForm): Promise<SerializedView> {
    return form === 'full' ? this.views.full(showId) : this.views.compact(showId);
  }

  listShows(filter: Parameters<Catalog['list']>[0]) {
    return this.catalog.list(filter);
  }

  async changeShow(showId: string, changes: Parameters<SeatService['changeShow']>[1], ctx?: CallContext) {
    await this.run(showId, { type: 'changeShow', changes, ...idem(ctx, 'change') }, ctx);
    return this.getShow(showId);
  }

  async cancelShow(showId: string, reason: string | undefined, ctx?: CallContext) {
    const r = await this.run(showId, { type: 'cancelShow', ...(reason ? { reason } : {}), ...idem(ctx, 'cancel-show') }, ctx);
    return { refunds: r.refunds, releasedHolds: r.releasedHolds };
  }

  async blockSeats(showId: string, seats: string[], ctx?: CallContext) {
    await this.run(showId, { type: 'blockSeats', seats, ...idem(ctx, 'block') }, ctx);
  }

  async unblockSeats(showId: string, seats: string[], ctx?: CallContext) {
    await this.run(showId, { type: 'unblockSeats', seats, ...idem(ctx, 'unblock') }, ctx);
  }

  async hold(showId: string, req: Parameters<SeatService['hold']>[1], ctx?: CallContext) {
    const r = await this.run(showId, { type: 'hold', holdId: newId('h'), ...req, ...idem(ctx, 'hold') }, ctx);
    return { ...r.hold, holdToken: this.tokens.issue(showId, r.hold.holdId) };
  }

  async extendHold(showId: string, holdId: string, holdToken: string, ttlSeconds: number | undefined, ctx?: CallContext) {
    this.checkToken(showId, holdId, holdToken);
    const r = await this.run(
      showId,
      {
        type: 'extendHold',
        holdId,
        ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
        ...idem(ctx, `extend:${holdId}`),
      },
      ctx,
    );
    return { holdId: r.holdId, expiresAt: r.expiresAt };
  }

  async confirm(
    showId: string,
    holdId: string,
    holdToken: string,
    { paymentRef, expectedTotal }: ConfirmOptions,
    ctx?: CallContext,
  ): Promise<BookingGranted> {
    this.checkToken(showId, holdId, holdToken);
    const r = await this.run(
      showId,
      {
        type: 'confirm',
        holdId,
        bookingId: newId('b'),
        ...(paymentRef !== undefined ? { paymentRef } : {}),
        ...(expectedTotal !== undefined ? { expectedTotal } : {}),
        ...idem(ctx, `confirm:${holdId}`),
      },
      ctx,
    );
    return { ...r.booking, bookingToken: this.tokens.issueBooking(showId, r.booking.bookingId) };
  }

  async release(showId: string, holdId: string, holdToken: string, ctx?: CallContext) {
    this.checkToken(showId, holdId, holdToken);
    await this.run(showId, { type: 'release', holdId, ...idem(ctx, `release:${holdId}`) }, ctx);
  }

  /** From the show's memory, else (cancelled long ago and forgotten there) from the archive. */
  async getBooking(showId: string, bookingId: string, bookingToken?: string) {
    if (bookingToken !== undefined) this.checkBookingToken(showId, bookingId, bookingToken);
    const live = await this.host.read(showId, (state) => {
      const b = state.bookings.get(bookingId);
      return b ? bookingView(state, b) : null;
    });
    const booking = live ?? (await this.archive?.get(showId, bookingId)) ?? null;
    if (!booking) throw new SeatError(ErrorCode.BOOKING_NOT_FOUND, 'no such booking');
    return booking;
  }

  async cancelBookings(showId: string, bookingIds: string[], ctx?: CallContext, opts: { refundPercent?: number | undefined } = {}) {
    const refund = opts.refundPercent !== undefined ? { refundPercent: opts.refundPercent } : {};
    const r = await this.run(showId, { type: 'cancelBookings', bookingIds, ...refund, ...idem(ctx, 'cancel-bookings') }, ctx);
    return r.bookings;
  }

  async cancelOwnBooking(showId: string, bookingId: string, bookingToken: string, ctx?: CallContext) {
    this.checkBookingToken(showId, bookingId, bookingToken);
    try {
      const r = await this.run(
        showId,
        { type: 'cancelBookings', bookingIds: [bookingId], byCustomer: true, ...idem(ctx, `cancel-own:${bookingId}`) },
        ctx,
      );
      return r.bookings[0] as BookingView;
    } catch (err) {
      // Cancelled long ago and forgotten by the show: it is cancelled, which is what was asked.
      const archived = isSeatErrorCode(err, ErrorCode.BOOKING_NOT_FOUND) ? await this.archive?.get(showId, bookingId) : null;
      if (archived) return archived;
      throw err;
    }
  }

  /**
   * The show's memory first, then the archive: a booking forgotten in between is then in the
   * archive, and an archived copy of a booking still in memory (Postgres holds every booking)
   * gives way to the show's own. Both sources are read in bookingId order past the cursor, one
   * more than the page, so the merged page and whether another follows are exact.
   */
  async listBookings(showId: string, req: BookingListRequest): Promise<BookingPage> {
    const limit = Math.min(Math.max(req.limit ?? DEFAULT_BOOKING_PAGE, 1), MAX_BOOKING_PAGE);
    const query: BookingQuery = { customerId: req.customerId, status: req.status, after: req.cursor, limit: limit + 1 };
    const after = query.after;
    const live = await this.host.read(showId, (state) => {
      const ids = new Set<string>();
      const views: BookingView[] = [];
      for (const b of state.bookings.values()) {
        if (after !== undefined && b.bookingId <= after) continue;
        ids.add(b.bookingId);
        if (matchesBookingQuery(b, query)) views.push(bookingView(state, b));
      }
      return { ids, views };
    });
    const archived = this.archive ? await this.archive.list(showId, query) : [];
    const merged = [...live.views, ...archived.filter((b) => !live.ids.has(b.bookingId))];
    merged.sort((a, b) => (a.bookingId < b.bookingId ? -1 : a.bookingId > b.bookingId ? 1 : 0));
    const bookings = merged.slice(0, limit);
    return merged.length > limit ? { bookings, nextCursor: bookings[bookings.length - 1].bookingId } : { bookings };
  }

  private checkBookingToken(showId: string, bookingId: string, token: string): void {
    if (!this.tokens.verifyBooking(showId, bookingId, token))
      throw new SeatError(ErrorCode.FORBIDDEN, 'the booking token does not match this booking');
  }

  watch(showId: string, listener: (delta: SeatDelta) => void): () => void {
    return this.bus.subscribe(deltaSubject(showId), (message) => listener(message as SeatDelta));
  }

  getReport(showId: string): Promise<ShowReport> {
    return this.host.read(showId, showReport);
  }

  async getSeatHistory(showId: string, seatId: string): Promise<SeatHistory> {
    await this.host.read(showId, () => undefined); // SHOW_NOT_FOUND before any log is read
    return readSeatHistory(this.historySources ?? this.host.sources, showId, seatId);
  }
}
