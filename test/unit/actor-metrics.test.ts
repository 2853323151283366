import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { OTHER_SHOW_LABEL, ShowLabels } from '../../src/actors/show-labels.ts';
import { SeatError } from '../../src/errors.ts';
import { registry } from '../../src/metrics.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import type { EventLog } from '../../src/core/ports.ts';
import { showDef } from '../../testkit/shows.ts';
import { until } from '../../testkit/wait.ts';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-01T10:00:00Z');

/** The value of one series of a metric (0 when absent); histograms by their `_count` or `_sum`. */
async function value(name: string, labels: Record<string, string> = {}, field?: 'count' | 'sum'): Promise<number> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  const { values } = await metric.get();
  const wanted = field ? `${name}_${field}` : undefined;
  const hit = values.find(
    (v) =>
      (wanted === undefined || (v as { metricName?: string }).metricName === wanted) &&
      Object.entries(labels).every(([k, l]) => String((v.labels as Record<string, unknown>)[k]) === l),
  );
  return hit?.value ?? 0;
}

/** A log whose appends wait for `gate`. */
function gatedLog(log: EventLog, gate: Promise<void>): EventLog {
  return {
    append: async (showId, batch, expected) => {
      await gate;
      return log.append(showId, batch, expected);
    },
    read: (showId, afterSeq) => log.read(showId, afterSeq),
    lastSeq: (showId) => log.lastSeq(showId),
    showIds: () => log.showIds(),
    close: () => log.close(),
  };
}

describe('show labels', () => {
  it('labels the first shows up to the cap, then "other", and frees the slot of a show idle long enough', () => {
    const evicted: string[] = [];
    const labels = new ShowLabels(2, 1_000, (id) => evicted.push(id));
    assert.equal(labels.labelOf('a', 0), 'a');
    assert.equal(labels.labelOf('b', 10), 'b');
    assert.equal(labels.labelOf('c', 20), OTHER_SHOW_LABEL);
    assert.equal(labels.labelOf('a', 500), 'a');
    // b last committed at 10: idle for 1,000 ms at 1,010, a is not.
    assert.equal(labels.labelOf('c', 1_009), OTHER_SHOW_LABEL);
    assert.equal(labels.labelOf('c', 1_010), 'c');
    assert.deepEqual(evicted, ['b']);
    assert.equal(labels.labelOf('b', 1_011), OTHER_SHOW_LABEL);
    assert.equal(labels.size, 2);
  });
});

describe('actor metrics', () => {
  it('counts committed events per show and type, how late holds expire, and mailbox depth', async () => {
    let now = T0;
    const storage = openMemoryStorage(logger);
    const host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, now: () => now });
    const show = `metrics-${process.pid}`;
    const held = await value('seat_events_committed_total', { show, type: 'SeatsHeld' });
    const lagCount = await value('seat_hold_expiry_lag_seconds', {}, 'count');
    const lagSum = await value('seat_hold_expiry_lag_seconds', {}, 'sum');
    const appends = await value('seat_log_append_duration_seconds', {}, 'count');

    await host.execute(show, { type: 'createShow', def: showDef(show) });
    await host.execute(show, { type: 'hold', holdId: 'h1', seats: ['A-1'], ttlSeconds: 60 });
    await host.execute(show, { type: 'hold', holdId: 'h2', seats: ['A-2'], ttlSeconds: 60 });
    await host.execute(show, { type: 'confirm', holdId: 'h2', bookingId: 'b2' });
    // 2.5 s past h1's deadline; the next batch expires it before anything else.
    now = T0 + 62_500;
    await host.execute(show, { type: 'hold', holdId: 'h3', seats: ['A-3'], ttlSeconds: 60 });

    assert.equal((await value('seat_events_committed_total', { show, type: 'SeatsHeld' })) - held, 3);
    assert.equal(await value('seat_events_committed_total', { show, type: 'BookingConfirmed' }), 1);
    assert.equal(await value('seat_events_committed_total', { show, type: 'HoldExpired' }), 1);
    assert.equal((await value('seat_hold_expiry_lag_seconds', {}, 'count')) - lagCount, 1);
    assert.ok(Math.abs((await value('seat_hold_expiry_lag_seconds', {}, 'sum')) - lagSum - 2.5) < 1e-9, 'expired 2.5 s late');
    assert.equal((await value('seat_log_append_duration_seconds', {}, 'count')) - appends, 5);

    // Commands queued behind a slow append show up as mailbox depth.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = new ActorHost({ log: gatedLog(storage.log, gate), snapshots: storage.snapshots, logger, now: () => now, maxBatch: 1 });
    const pending = [4, 5, 6, 7].map((i) => slow.execute(show, { type: 'hold', holdId: `h${i}`, seats: [`A-${i}`] }));
    await until(() => slow.actorLoad(show)?.mailbox === 3, 5_000, 'three holds queued behind the first');
    assert.ok((await value('seat_mailbox_commands_max')) >= 3, 'the deepest mailbox has the three queued holds');
    assert.ok((await value('seat_mailbox_commands')) >= 3);
    release();
    await Promise.all(pending);
    await slow.close();
    await host.close();
  });

  it('counts failed appends by code', async () => {
    const storage = openMemoryStorage(logger);
    let fail = false;
    const log: EventLog = {
      append: (showId, batch, expected) =>
        fail ? Promise.reject(new SeatError('UNAVAILABLE', 'disk full')) : storage.log.append(showId, batch, expected),
      read: (showId, afterSeq) => storage.log.read(showId, afterSeq),
      lastSeq: (showId) => storage.log.lastSeq(showId),
      showIds: () => storage.log.showIds(),
      close: () => storage.log.close(),
    };
    const host = new ActorHost({ log, snapshots: storage.snapshots, logger });
    const before = await value('seat_log_append_errors_total', { code: 'UNAVAILABLE' });
    await host.execute('f', { type: 'createShow', def: showDef('f') });
    fail = true;
    await assert.rejects(host.execute('f', { type: 'hold', holdId: 'h1', seats: ['A-1'] }), { code: 'UNAVAILABLE' });
    assert.equal((await value('seat_log_append_errors_total', { code: 'UNAVAILABLE' })) - before, 1);
    await host.close();
  });
});
