import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, JSONCodec, type NatsConnection } from 'nats';
import type { OutEvent } from '../../src/projections/out-events.ts';
import { startCluster, until, type TestCluster } from '../../testkit/cluster.ts';
import { showInput } from '../../testkit/shows.ts';
import { needServices, SERVICE_URLS } from '../../testkit/services.ts';

/** BookingConfirmed eventIds per booking in the out stream (a few hundred messages: one request each). */
async function confirmedInStream(nc: NatsConnection, stream: string): Promise<Map<string, Set<string>>> {
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream);
  const codec = JSONCodec<OutEvent>();
  const byBooking = new Map<string, Set<string>>();
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const e = codec.decode((await jsm.streams.getMessage(stream, { seq })).data);
    if (e.type !== 'BookingConfirmed') continue;
    const ids = byBooking.get(e.booking.bookingId) ?? new Set<string>();
    ids.add(e.eventId);
    byBooking.set(e.booking.bookingId, ids);
  }
  return byBooking;
}

/**
 * A worker that dies between its commits and their out-event delivery: the worker that takes
 * its show over (the warm replica, at the ring change) re-delivers from the log.
 */
describe('out-events across a worker crash', { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let cluster: TestCluster;
  let nc: NatsConnection;
  before(async () => {
    cluster = await startCluster({ workers: 1, gateways: 1 });
    // The second worker delivers nothing from its 15th batch with out-events on and dies 8 batches later.
    await cluster.addWorker({ OUT_EVENTS_DIE_AFTER_COMMIT_FOR_TESTS: '15' });
    nc = await connect({ servers: SERVICE_URLS.nats });
  });
  after(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  it('every answered confirm reaches the out stream once after the new owner takes over', async (t) => {
    const victim = cluster.workers[1]!;
    let showId: string | null = null;
    for (let i = 0; i < 20 && !showId; i++) {
      const id = `ocf-${i}`;
      assert.equal((await cluster.request('POST', '/v1/shows', showInput(id, 10, 20), { admin: true })).status, 201);
      if ((await cluster.ownerOf(id)) === victim.nodeId) showId = id;
    }
    assert.ok(showId, 'a show owned by the worker that will die');

    const answered: string[] = [];
    let stop = false;
    t.after(() => void (stop = true));
    const loop = async () => {
      while (!stop && victim.alive) {
        const h = await cluster.request('POST', `/v1/shows/${showId}/holds`, { count: 1 });
        if (h.status !== 201) continue;
        const c = await cluster.request(
          'POST',
          `/v1/shows/${showId}/holds/${h.body.holdId}/confirm`,
          {},
          { headers: { 'hold-token': h.body.holdToken } },
        );
        if (c.status === 201) answered.push(c.body.bookingId as string);
      }
    };
    const loops = Promise.all(Array.from({ length: 4 }, loop));
    await until(() => !victim.alive, 60_000, 'the worker to kill itself between commit and delivery');
    stop = true;
    await loops;
    assert.ok(answered.length >= 15, `confirms answered before the crash: ${answered.length}`);

    const stream = `${cluster.stream}_OUT`;
    const byBooking = await until(
      async () => {
        const m = await confirmedInStream(nc, stream);
        return answered.every((id) => m.has(id)) ? m : false;
      },
      60_000,
      'every answered confirm in the out stream',
    );
    for (const id of answered) assert.equal(byBooking.get(id)?.size, 1, `${id}: one eventId`);
  });
});
