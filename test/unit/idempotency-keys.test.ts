import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../../src/actors/decide.ts';
import { evolve } from '../../src/actors/evolve.ts';
import { DEFAULT_IDEMPOTENCY_MARGIN_SECONDS, IDEMPOTENCY_KEYS_MAX } from '../../src/actors/idempotency.ts';
import { deserializeState, serializeState } from '../../src/actors/state-codec.ts';
import type { ShowCommand } from '../../src/actors/types.ts';
import { CoreDriver } from '../support/core.ts';
import { showDef } from '../../testkit/shows.ts';

const MINUTE = 60_000;

describe('idempotency keys at the show', () => {
  it('answers a retry of every keyed command with its first answer and changes nothing', () => {
    const d = new CoreDriver(showDef('s1', 3, 10));
    const h1 = d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2', 'A-3'], idem: 'k-hold' });
    d.ok({ type: 'hold', holdId: 'h2', seats: ['B-1'] });
    d.ok({ type: 'hold', holdId: 'h3', seats: ['C-10'] });
    const cmds: ShowCommand[] = [
      { type: 'extendHold', holdId: 'h2', ttlSeconds: 900, idem: 'k-extend' },
      { type: 'confirm', holdId: 'h1', bookingId: 'b1', idem: 'k-confirm' },
      { type: 'release', holdId: 'h2', idem: 'k-release' },
      { type: 'blockSeats', seats: ['B-5'], idem: 'k-block' },
      { type: 'unblockSeats', seats: ['B-5'], idem: 'k-unblock' },
      { type: 'cancelBookings', bookingIds: ['b1'], idem: 'k-cancel-bookings' },
      {
        type: 'changeShow',
        changes: {
          layout: {
            sections: [
              {
                id: 'main',
                rows: [
                  { label: 'A', seats: 10, category: 'gold' },
                  { label: 'B', seats: 10, category: 'gold' },
                ],
              },
            ],
          },
        },
        idem: 'k-change',
      },
      { type: 'cancelShow', reason: 'storm', idem: 'k-cancel-show' },
    ];
    const firsts = cmds.map((c) => d.ok(c));
    const version = d.s.version;
    assert.deepEqual(d.ok({ type: 'hold', holdId: 'h-new', seats: ['A-1', 'A-2', 'A-3'], idem: 'k-hold' }), h1);
    for (const [i, c] of cmds.entries()) {
      // The retry carries newly generated ids where the service makes them.
      const retry = c.type === 'confirm' ? { ...c, bookingId: 'b-other' } : c;
      assert.deepEqual(d.ok(retry), firsts[i], `retry of ${c.type}`);
    }
    assert.equal(d.s.version, version, 'no retry emitted an event');
  });

  it('refuses the same key with another body, or for another command, with IDEMPOTENCY_MISMATCH', () => {
    const d = new CoreDriver(showDef('s1', 3, 10));
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'], idem: 'k1' });
    d.ok({ type: 'hold', holdId: 'h2', seats: ['A-5'] });
    d.ok({ type: 'changeShow', changes: { title: 'Dune II' }, idem: 'k2' });
    d.ok({ type: 'blockSeats', seats: ['C-1'], idem: 'k3' });
    d.ok({ type: 'extendHold', holdId: 'h2', ttlSeconds: 700, idem: 'k4' });
    assert.equal(d.fails({ type: 'hold', holdId: 'h9', seats: ['A-2'], idem: 'k1' }), 'IDEMPOTENCY_MISMATCH');
    assert.equal(d.fails({ type: 'hold', holdId: 'h9', seats: ['A-1'], customerId: 'c7', idem: 'k1' }), 'IDEMPOTENCY_MISMATCH');
    assert.equal(d.fails({ type: 'changeShow', changes: { title: 'Dune III' }, idem: 'k2' }), 'IDEMPOTENCY_MISMATCH');
    assert.equal(d.fails({ type: 'blockSeats', seats: ['C-2'], idem: 'k3' }), 'IDEMPOTENCY_MISMATCH');
    assert.equal(d.fails({ type: 'extendHold', holdId: 'h2', ttlSeconds: 800, idem: 'k4' }), 'IDEMPOTENCY_MISMATCH');
    assert.equal(d.fails({ type: 'release', holdId: 'h1', idem: 'k1' }), 'IDEMPOTENCY_MISMATCH');
    assert.equal(d.s.def.title, 'Dune II');
  });

  it('a retried changeShow does not emit ShowChanged again', () => {
    const d = new CoreDriver(showDef('s1', 2, 10));
    const cmd: ShowCommand = { type: 'changeShow', changes: { startsAt: '2026-12-02T19:30:00+05:30' }, idem: 'move' };
    const first = decide(d.s, cmd, d.now);
    assert.ok(first.ok);
    for (const e of first.events) d.state = evolve(d.state, e);
    const retry = decide(d.s, cmd, d.now + MINUTE);
    assert.ok(retry.ok);
    assert.deepEqual(retry.events, []);
    assert.deepEqual(retry.reply, first.reply);
  });

  it('keeps a key for the show’s longest hold plus the margin, then forgets it by event time, the same after recovery', () => {
    const d = new CoreDriver(showDef('s1', 2, 10));
    const maxHoldMs = d.s.def.limits.maxHoldSeconds * 1000;
    const keepMs = maxHoldMs + DEFAULT_IDEMPOTENCY_MARGIN_SECONDS * 1000;
    const first = d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'], idem: 'old' });
    d.now += keepMs - MINUTE;
    d.ok({ type: 'hold', holdId: 'h2', seats: ['B-1'], idem: 'recent' });
    assert.deepEqual(d.ok({ type: 'hold', holdId: 'hx', seats: ['A-1'], idem: 'old' }), first, 'still remembered just before its time');
    d.now += MINUTE;
    // Time passing alone forgets nothing (evolve reads no clock); the next event does.
    assert.equal(d.s.idempotent.size, 2);
    d.ok({ type: 'release', holdId: 'h2' });
    assert.deepEqual([...d.s.idempotent.keys()], ['recent']);
    const recovered = deserializeState(JSON.parse(JSON.stringify(serializeState(d.s))));
    assert.deepEqual([...recovered.idempotent], [...d.s.idempotent]);
  });

  it('honours a configured retention, recorded in the event so a replica forgets at the same point', () => {
    const d = new CoreDriver(showDef('s1', 2, 10));
    const cmd: ShowCommand = { type: 'hold', holdId: 'h1', seats: ['A-1'], idem: 'k' };
    const decision = decide(d.s, cmd, d.now, { idempotencyRetentionSeconds: 7_200 });
    assert.ok(decision.ok);
    const keyed = (decision.events[0] as { keyed?: { until: number } }).keyed;
    assert.equal(keyed?.until, d.now + 7_200_000);
  });

  it('stores a compact result per key, not the reply’s price lines', () => {
    const d = new CoreDriver(showDef('s1', 2, 10, { limits: { maxSeatsPerHold: 10, holdTtlSeconds: 600, maxHoldSeconds: 1800 } }));
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1', 'A-2', 'A-3', 'A-4', 'A-5', 'A-6', 'A-7', 'A-8', 'A-9', 'A-10'], idem: 'k' });
    const record = d.s.idempotent.get('k');
    assert.ok(record);
    assert.equal('lines' in record.result, false);
    assert.ok(JSON.stringify(record).length < 300, `record of ${JSON.stringify(record).length} bytes`);
  });

  it('keeps at most IDEMPOTENCY_KEYS_MAX keys however fast they come, the oldest going first', () => {
    const d = new CoreDriver(showDef('s1', 1, 2));
    for (let i = 0; i <= IDEMPOTENCY_KEYS_MAX; i++) {
      d.ok({ type: 'hold', holdId: `h${i}`, seats: ['A-1'], idem: `k${i}` });
      d.ok({ type: 'release', holdId: `h${i}` });
    }
    assert.equal(d.s.idempotent.size, IDEMPOTENCY_KEYS_MAX);
    assert.equal(d.s.idempotent.has('k0'), false);
    assert.equal(d.s.idempotent.has('k1'), true);
  });

  it('forgets a short-lived key at its own time, even behind a long-lived one, the same after recovery', () => {
    const d = new CoreDriver(showDef('s1', 2, 10));
    d.ok({ type: 'hold', holdId: 'h1', seats: ['A-1'], idem: 'client-key' });
    d.ok({ type: 'hold', holdId: 'h2', seats: ['A-2'], idem: 'route-key', idemKeepSeconds: 10 });
    d.ok({ type: 'hold', holdId: 'h3', seats: ['A-3'], idem: 'client-key-2' });
    // A different keep time is the same request: the retry is answered, not refused.
    assert.equal(d.ok({ type: 'hold', holdId: 'hx', seats: ['A-2'], idem: 'route-key' }).hold.holdId, 'h2');
    const recovered = deserializeState(JSON.parse(JSON.stringify(serializeState(d.s))));
    d.now += 10_000;
    d.ok({ type: 'release', holdId: 'h1' });
    assert.deepEqual([...d.s.idempotent.keys()], ['client-key', 'client-key-2']);
    const again = evolve(recovered, { type: 'HoldReleased', holdId: 'h1', seats: [0], reason: 'released', at: d.now });
    assert.deepEqual([...again.idempotent.keys()], ['client-key', 'client-key-2']);
  });
});
