import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from 'nats';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { DEFAULT_LIMITS, DEFAULT_OFFERS } from '../../src/actors/defaults.ts';
import { JetStreamEventLog } from '../../src/persistence/jetstream-event-log.ts';
import { MemorySnapshotStore } from '../../src/persistence/memory-store.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { showDef } from '../../testkit/shows.ts';
import { connectTestNats, deleteStream } from './support.ts';
import { seatLabels } from '../../src/actors/seat-map.ts';

const skip = await needServices('nats');
const logger = pino({ level: 'silent' });

describe('one command whose events exceed the message limit', { skip }, () => {
  let nc: NatsConnection;
  let log: JetStreamEventLog;
  const stream = uniqueName('S_BIG');
  before(async () => {
    nc = await connectTestNats();
    log = await JetStreamEventLog.open(nc, { logger, stream, subjectPrefix: `${stream}.events` });
  });
  after(async () => {
    await log.close();
    await deleteStream(stream);
    await nc.close();
  });

  it('cancels a show with 12,000 bookings as one atomic log entry', async () => {
    const host = new ActorHost({ log, snapshots: new MemorySnapshotStore(), logger, maxBatch: 4096, maxMailbox: 12_000 });
    const def = showDef('stadium', 120, 200, { limits: { ...DEFAULT_LIMITS, maxSeatsPerHold: 2 }, offers: { ...DEFAULT_OFFERS } });
    await host.execute('stadium', { type: 'createShow', def });
    const labels = await host.read('stadium', (s) => seatLabels(s.seatMap).slice());
    const BOOKINGS = 12_000;
    await Promise.all(
      Array.from({ length: BOOKINGS }, async (_, i) => {
        await host.execute('stadium', { type: 'hold', holdId: `h${i}`, seats: [labels[2 * i], labels[2 * i + 1]] });
        await host.execute('stadium', { type: 'confirm', holdId: `h${i}`, bookingId: `b${i}` });
      }),
    );
    const seqBefore = await log.lastSeq('stadium');
    const reply = await host.execute('stadium', { type: 'cancelShow', reason: 'storm' });
    assert.equal(reply.type === 'cancelShow' && reply.refunds.length, BOOKINGS);
    const entries = [];
    for await (const e of log.read('stadium', seqBefore)) entries.push(e);
    assert.equal(entries.length, 1, 'the cancellation is one log entry');
    assert.equal(entries[0].events.length, BOOKINGS + 1);
    await host.close();
    const rebuilt = await new ActorHost({ log, snapshots: new MemorySnapshotStore(), logger }).load('stadium');
    assert.equal(rebuilt.state?.status, 'cancelled');
    assert.equal(rebuilt.state?.counts.available, 24_000);
  });
});
