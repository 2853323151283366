import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { serializeState } from '../../src/actors/state-codec.ts';
import type { HoldReply } from '../../src/actors/types.ts';
import { SeatError } from '../../src/errors.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { checkAccounting } from '../support/core.ts';
import { showDef } from '../../testkit/shows.ts';

const logger = pino({ level: 'silent' });
const ROWS = 3;
const PER_ROW = 6;
const label = (i: number) => `${String.fromCharCode(65 + Math.floor(i / PER_ROW))}-${(i % PER_ROW) + 1}`;

/** Errors a well-formed command may legitimately meet under contention. */
const EXPECTED_CODES = new Set([
  'SEAT_UNAVAILABLE',
  'HOLD_EXPIRED',
  'HOLD_NOT_FOUND',
  'HOLD_ALREADY_CONFIRMED',
  'SHOW_CANCELLED',
  'HOLD_LIMIT_EXCEEDED',
]);

const op = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('hold' as const),
      seats: fc.uniqueArray(fc.nat(ROWS * PER_ROW - 1), { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('holdCount' as const), count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('confirm' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('extend' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1_000, max: 400_000 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancelBooking' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancelShow' as const), roll: fc.integer({ min: 0, max: 9 }) }) },
  // Prices, start time (afternoon offer on or off), a trailing row and a section change under the clients.
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('reprice' as const),
      price: fc.integer({ min: 1, max: 9 }).map((k) => k * 11_111),
      afternoon: fc.boolean(),
      extraRow: fc.boolean(),
      // A balcony section comes and goes: the main section's ids (the clients' labels) stay.
      balcony: fc.boolean(),
    }),
  },
);

describe('show actor under concurrent random clients', () => {
  it('never sells a seat twice, loses no acknowledged confirm, keeps the accounting identity', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.array(op, { maxLength: 12 }), { minLength: 2, maxLength: 6 }), async (s, programs) => {
        const storage = openMemoryStorage(logger);
        const clock = { t: Date.parse('2026-11-01T10:00:00Z') };
        const host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, now: () => clock.t, snapshotEveryEvents: 7 });
        const showId = 'model';
        await host.execute(showId, {
          type: 'createShow',
          def: showDef(showId, ROWS, PER_ROW, { limits: { maxSeatsPerHold: 4, holdTtlSeconds: 300, maxHoldSeconds: 900 } }),
        });
        const confirmed = new Map<string, string[]>(); // acknowledged bookings
        const quoted = new Map<string, number>(); // hold id -> the total its customer was shown
        const cancelled = new Set<string>();
        const allHolds: string[] = [];
        let n = 0;

        const attempt = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
          try {
            return await fn();
          } catch (err) {
            assert.ok(err instanceof SeatError && EXPECTED_CODES.has(err.code), `unexpected ${String((err as Error).message)}`);
            return undefined;
          }
        };

        const client = async (
          ops: fc.Arbitrary<unknown> extends never ? never : Array<typeof op extends fc.Arbitrary<infer T> ? T : never>,
        ) => {
          const mine: HoldReply[] = [];
          for (const o of ops) {
            await s.schedule(Promise.resolve(o.kind));
            switch (o.kind) {
              case 'hold':
              case 'holdCount': {
                const holdId = `h${++n}`;
                allHolds.push(holdId);
                // Three customers share the holds, so the per-customer count is checked too.
                const cmd = { ...(o.kind === 'hold' ? { seats: o.seats.map(label) } : { count: o.count }), customerId: `c${n % 3}` };
                const r = await attempt(() => host.execute(showId, { type: 'hold', holdId, ...cmd }));
                if (r && r.type === 'hold') {
                  mine.push(r.hold);
                  quoted.set(holdId, r.hold.price.total);
                }
                break;
              }
              case 'confirm': {
                const h = mine[o.pick % Math.max(1, mine.length)];
                if (!h) break;
                const r = await attempt(() => host.execute(showId, { type: 'confirm', holdId: h.holdId, bookingId: `b-${h.holdId}` }));
                if (r && r.type === 'confirm') {
                  confirmed.set(r.booking.bookingId, r.booking.seats);
                  assert.equal(r.booking.total, quoted.get(h.holdId), `booking ${r.booking.bookingId} total differs from its quote`);
                }
                break;
              }
              case 'release':
              case 'extend': {
                const h = mine[o.pick % Math.max(1, mine.length)];
                if (!h) break;
                await attempt(() =>
                  host.execute(
                    showId,
                    o.kind === 'release' ? { type: 'release', holdId: h.holdId } : { type: 'extendHold', holdId: h.holdId },
                  ),
                );
                break;
              }
              case 'tick':
                clock.t += o.ms;
                await host.execute(showId, { type: 'expireHolds', holdIds: [...allHolds] });
                break;
              case 'cancelBooking': {
                const ids = [...confirmed.keys()];
                const id = ids[o.pick % Math.max(1, ids.length)];
                if (!id) break;
                const r = await host.execute(showId, { type: 'cancelBookings', bookingIds: [id] });
                if (r.type === 'cancelBookings') cancelled.add(id);
                break;
              }
              case 'cancelShow':
                if (o.roll === 0) await host.execute(showId, { type: 'cancelShow' });
                break;
              case 'reprice': {
                const rows = Array.from({ length: ROWS + (o.extraRow ? 1 : 0) }, (_, r) => ({
                  label: String.fromCharCode(65 + r),
                  seats: PER_ROW,
                  category: 'gold',
                }));
                const sections = [
                  { id: 'main', rows },
                  ...(o.balcony ? [{ id: 'balcony', rows: [{ label: 'A', seats: 2, category: 'gold' }] }] : []),
                ];
                const r = await attempt(() =>
                  host.execute(showId, {
                    type: 'changeShow',
                    changes: {
                      categories: [{ id: 'gold', price: o.price, currency: 'INR' }],
                      startsAt: o.afternoon ? '2026-12-01T14:00:00+05:30' : '2026-12-01T19:30:00+05:30',
                      layout: { sections },
                    },
                  }),
                );
                if (r && r.type === 'changeShow') {
                  // Only bookings on a seat that is really gone end; every id that stays keeps its booking.
                  const ids = new Set(
                    sections.flatMap((sec) =>
                      sec.rows.flatMap((row) =>
                        Array.from({ length: row.seats }, (_, k) => `${sec.id === 'main' ? '' : `${sec.id}:`}${row.label}-${k + 1}`),
                      ),
                    ),
                  );
                  for (const b of r.cancelledBookings) {
                    assert.ok(
                      b.seats.some((seat) => !ids.has(seat)),
                      `booking ${b.bookingId} on ${b.seats.join(',')} cancelled though its seats remain`,
                    );
                    assert.equal(b.refundDue, b.total);
                    cancelled.add(b.bookingId);
                  }
                }
                break;
              }
            }
          }
        };

        await s.waitFor(Promise.all(programs.map(client)));
        const final = await host.read(showId, (st) => {
          checkAccounting(st);
          return serializeState(st);
        });
        for (const [bookingId, seats] of confirmed) {
          const b = final.bookings.find(([id]) => id === bookingId)?.[1];
          assert.ok(b, `acknowledged booking ${bookingId} lost`);
          assert.deepEqual(b.seats, seats);
          assert.equal(b.quote.total, quoted.get(b.holdId));
          if (!cancelled.has(bookingId) && final.status !== 'cancelled') assert.equal(b.status, 'confirmed');
        }
        // Recovery (snapshot + log tail) rebuilds exactly the live state.
        await host.close();
        const rebuilt = await new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger }).load(showId);
        assert.deepEqual(serializeState(rebuilt.state!), final);
        checkAccounting(rebuilt.state!);
        const fromLogOnly = await new ActorHost({ log: storage.log, snapshots: openMemoryStorage(logger).snapshots, logger }).load(showId);
        assert.deepEqual(serializeState(fromLogOnly.state!), final);
        checkAccounting(fromLogOnly.state!);
      }),
      { numRuns: 150 },
    );
  });
});
