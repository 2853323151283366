import { randomBytes } from 'node:crypto';
import type { ActorHost } from '../actors/actor-host.ts';
import { DEFAULT_LIMITS, DEFAULT_OFFERS } from '../actors/defaults.ts';
import type { SeatDelta } from '../actors/deltas.ts';
import type { CommandReply, ReplyFor, ShowCommand, ShowCommandType } from '../actors/types.ts';
import { bookingView, compactStatuses, showView } from '../actors/views.ts';
import { ErrorCode, SeatError } from '../errors.ts';
import type { Bus, Catalog } from '../persistence/ports.ts';
import { deltaSubject } from '../subjects.ts';
import type { HoldTokens } from './hold-tokens.ts';
import type { CallContext, CreateShowInput, SeatService } from './seat-service.ts';

/** Unguessable ids: 128 random bits. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/**
 * The key the show remembers for a request. Hold-scoped commands put the hold id in the
 * scope, so one key reused for another hold does not get that hold's answer. The show
 * fingerprints each request under its key: the same key with another body is refused
 * (IDEMPOTENCY_MISMATCH), never answered with someone else's hold.
 */
function idem(ctx: CallContext | undefined, scope: string): { idem?: string } {
  return ctx?.idempotencyKey ? { idem: `${scope}:${ctx.idempotencyKey}` } : {};
}

/** The SeatService of a process that owns its shows: calls go straight to the local actors. */
export class LocalSeatService implements SeatService {
  constructor(
    private readonly host: ActorHost,
    private readonly catalog: Catalog,
    private readonly bus: Bus,
    private readonly tokens: HoldTokens,
  ) {}

  private async run<T extends ShowCommandType>(showId: string, cmd: Extract<ShowCommand, { type: T }>, ctx?: CallContext): Promise<ReplyFor<T>> {
    const reply: CommandReply = await this.host.execute(showId, cmd, ctx?.deadline !== undefined ? { deadline: ctx.deadline } : {});
    return reply as ReplyFor<T>;
  }

  private checkToken(showId: string, holdId: string, token: string): void {
    if (!this.tokens.verify(showId, holdId, token))
      throw new SeatError(ErrorCode.FORBIDDEN, 'the hold token does not match this hold');
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
    return this.host.read(showId, (state) => {
      const { seatMap } = state;
      return {
        showId,
        version: state.version,
        layoutVersion: state.layoutVersion,
        status: state.status,
        labels: seatMap.labels,
        categoryOf: Array.from(seatMap.categoryOf),
        categories: state.def.categories,
        seats: compactStatuses(state),
        rows: seatMap.rows,
      };
    });
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
    const r = await this.run(showId, {
      type: 'extendHold',
      holdId,
      ...(ttlSeconds !== undefined ? { ttlSeconds } : {}),
      ...idem(ctx, `extend:${holdId}`),
    }, ctx);
    return { holdId: r.holdId, expiresAt: r.expiresAt };
  }

  async confirm(showId: string, holdId: string, holdToken: string, paymentRef: string | undefined, ctx?: CallContext) {
    this.checkToken(showId, holdId, holdToken);
    const r = await this.run(showId, {
      type: 'confirm',
      holdId,
      bookingId: newId('b'),
      ...(paymentRef !== undefined ? { paymentRef } : {}),
      ...idem(ctx, `confirm:${holdId}`),
    }, ctx);
    return r.booking;
  }

  async release(showId: string, holdId: string, holdToken: string, ctx?: CallContext) {
    this.checkToken(showId, holdId, holdToken);
    await this.run(showId, { type: 'release', holdId, ...idem(ctx, `release:${holdId}`) }, ctx);
  }

  getBooking(showId: string, bookingId: string) {
    return this.host.read(showId, (state) => {
      const b = state.bookings.get(bookingId);
      if (!b) throw new SeatError(ErrorCode.BOOKING_NOT_FOUND, 'no such booking');
      return bookingView(state, b);
    });
  }

  async cancelBookings(showId: string, bookingIds: string[], ctx?: CallContext) {
    const r = await this.run(showId, { type: 'cancelBookings', bookingIds, ...idem(ctx, 'cancel-bookings') }, ctx);
    return r.bookings;
  }

  watch(showId: string, listener: (delta: SeatDelta) => void): () => void {
    return this.bus.subscribe(deltaSubject(showId), (message) => listener(message as SeatDelta));
  }
}
