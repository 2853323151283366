import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evolveAll } from '../../src/actors/evolve.ts';
import { deserializeState, serializeState } from '../../src/actors/state-codec.ts';
import { decide } from '../../src/actors/decide.ts';
import type { ShowCommand, ShowEvent } from '../../src/actors/types.ts';
import { DEFAULT_LIMITS } from '../../src/actors/defaults.ts';
import { checkAccounting, CoreDriver } from '../support/core.ts';
import { showDef } from '../../testkit/shows.ts';

const capped = (cap: number) => showDef('s1', 2, 10, { limits: { ...DEFAULT_LIMITS, maxSeatsPerCustomer: cap } });
const seatsOf = (d: CoreDriver, customerId: string) => d.s.seatsByCustomer.get(customerId) ?? 0;

let n = 0;
const holdCmd = (customerId: string | undefined, count: number) => ({ type: 'hold', holdId: `h${++n}`, count, customerId }) as const;

describe('per-customer cap (limits.maxSeatsPerCustomer)', () => {
  it('counts held and booked seats of one customer across holds and a confirm', () => {
    const d = new CoreDriver(capped(4));
    const a = d.ok(holdCmd('alice', 2)).hold;
    d.ok(holdCmd('alice', 2));
    assert.equal(seatsOf(d, 'alice'), 4);
    assert.equal(d.fails(holdCmd('alice', 1)), 'HOLD_LIMIT_EXCEEDED');
    d.ok({ type: 'confirm', holdId: a.holdId, bookingId: 'b1' });
    assert.equal(seatsOf(d, 'alice'), 4, 'a booking still counts');
    assert.equal(d.fails(holdCmd('alice', 1)), 'HOLD_LIMIT_EXCEEDED');
    // Another customer has a cap of its own.
    d.ok(holdCmd('bob', 4));
    checkAccounting(d.s);
  });

  it('seats come back to the customer after a release, an expiry and a cancelled booking', () => {
    const d = new CoreDriver(capped(3));
    const released = d.ok(holdCmd('carol', 3)).hold;
    assert.equal(d.fails(holdCmd('carol', 1)), 'HOLD_LIMIT_EXCEEDED');
    d.ok({ type: 'release', holdId: released.holdId });
    assert.equal(seatsOf(d, 'carol'), 0);

    const expiring = d.ok(holdCmd('carol', 3)).hold;
    d.now += 3_600_000;
    d.ok({ type: 'expireHolds', holdIds: [expiring.holdId] });
    assert.equal(seatsOf(d, 'carol'), 0);

    const booked = d.ok(holdCmd('carol', 3)).hold;
    d.ok({ type: 'confirm', holdId: booked.holdId, bookingId: 'b-carol' });
    assert.equal(d.fails(holdCmd('carol', 1)), 'HOLD_LIMIT_EXCEEDED');
    d.ok({ type: 'cancelBookings', bookingIds: ['b-carol'] });
    assert.equal(seatsOf(d, 'carol'), 0);
    d.ok(holdCmd('carol', 3));
    checkAccounting(d.s);
  });

  it('a capped show refuses a hold without customerId (CUSTOMER_REQUIRED); an uncapped one does not', () => {
    assert.equal(new CoreDriver(capped(2)).fails(holdCmd(undefined, 1)), 'CUSTOMER_REQUIRED');
    new CoreDriver(showDef()).ok(holdCmd(undefined, 1));
  });

  it('a cap set later applies to new holds, counting what the customer already has', () => {
    const d = new CoreDriver(showDef());
    d.ok(holdCmd('dave', 5));
    d.ok({ type: 'changeShow', changes: { limits: { maxSeatsPerCustomer: 6 } } });
    assert.equal(d.fails(holdCmd('dave', 2)), 'HOLD_LIMIT_EXCEEDED');
    d.ok(holdCmd('dave', 1));
    d.ok({ type: 'changeShow', changes: { limits: { maxSeatsPerCustomer: null } } });
    d.ok(holdCmd('dave', 5));
  });

  it('the count survives a snapshot and a replay of the log', () => {
    const d = new CoreDriver(null);
    const events: ShowEvent[] = [];
    const run = (cmd: ShowCommand) => {
      const decision = decide(d.state, cmd, d.now);
      assert.ok(decision.ok);
      events.push(...decision.events);
      d.state = evolveAll(d.state, decision.events);
    };
    run({ type: 'createShow', def: capped(10) });
    run(holdCmd('erin', 3));
    run({ ...holdCmd('erin', 2), holdId: 'h-erin' });
    run({ type: 'confirm', holdId: 'h-erin', bookingId: 'b-erin' });
    run(holdCmd('frank', 4));
    assert.deepEqual([...d.s.seatsByCustomer].sort(), [
      ['erin', 5],
      ['frank', 4],
    ]);
    const loaded = deserializeState(JSON.parse(JSON.stringify(serializeState(d.s))));
    assert.deepEqual(loaded.seatsByCustomer, d.s.seatsByCustomer);
    const replayed = evolveAll(null, events);
    assert.deepEqual(replayed?.seatsByCustomer, d.s.seatsByCustomer);
  });
});
