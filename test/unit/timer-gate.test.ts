import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { showDef } from '../../testkit/shows.ts';
import { until } from '../../testkit/wait.ts';

const logger = pino({ level: 'silent' });

/**
 * A worker that wakes from a pause has overdue hold timers; they must not write before the
 * worker knows it still owns the show. The host asks `beforeTimer` first and puts the timer
 * off while it answers false.
 */
describe('hold-expiry timers wait for the lease', () => {
  it('does not expire an overdue hold until beforeTimer allows it', async () => {
    const storage = openMemoryStorage(logger);
    let clock = 1_700_000_000_000;
    let allowed = false;
    let asked = 0;
    const host = new ActorHost({
      log: storage.log,
      snapshots: storage.snapshots,
      logger,
      now: () => clock,
      beforeTimer: async () => {
        asked++;
        return allowed;
      },
    });
    await host.execute('t', { type: 'createShow', def: showDef('t') });
    await host.execute('t', { type: 'hold', holdId: 'h1', seats: ['A-1'], ttlSeconds: 60 });
    // The process "wakes" past the deadline: loaded again, the show's timer is overdue at once.
    await host.passivate('t', { wake: false });
    clock += 120_000;
    assert.equal(await host.ensureActive('t'), true);
    await until(() => asked >= 2, 5_000, 'the gate to be asked twice');
    assert.equal(await host.read('t', (s) => s.holds.has('h1')), true, 'no expiry while the gate says no');
    allowed = true;
    await until(() => host.stats().activeHolds === 0, 5_000, 'the hold to expire once allowed');
    await host.close();
  });
});
