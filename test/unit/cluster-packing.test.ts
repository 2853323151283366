import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InProcessCluster } from '../../src/cluster/in-process/cluster.ts';
import type { SentMessage } from '../../src/cluster/in-process/transport.ts';
import { clusterSubjects } from '../../src/subjects.ts';
import { showInput } from '../../testkit/shows.ts';

describe('packing ops into hop requests', () => {
  const clusters: InProcessCluster[] = [];
  after(async () => {
    for (const c of clusters) await c.close();
  });

  test('ops sent in one turn to one owner leave in a few packed requests, and each gets its own result', async () => {
    const c = await InProcessCluster.start({ workers: ['w1'], maxOps: 64 });
    clusters.push(c);
    const g = await c.addGateway();
    await g.service.createShow(showInput('big', 20, 20));
    const cmd = clusterSubjects(c.prefix).commands('w1');
    const sent: SentMessage[] = [];
    const untap = c.network.tap((msg) => msg.subject === cmd && sent.push(msg));
    const holds = await Promise.all(Array.from({ length: 200 }, () => g.service.hold('big', { count: 1 })));
    untap();
    const requests = sent.filter((msg) => msg.request).length;
    assert.ok(requests >= Math.ceil(200 / 64) && requests <= 8, `${requests} requests for 200 ops`);
    const seats = holds.flatMap((h) => h.seats);
    assert.equal(new Set(seats).size, 200, 'every hold got its own seat');
    assert.equal(new Set(holds.map((h) => h.holdId)).size, 200);
  });

  test('a pack or a result over the message limit goes in parts, none over the limit, and arrives whole', async () => {
    // 6 KiB messages: a 10,000-seat map and a pack of 300 keyed ops both need several.
    const c = await InProcessCluster.start({ workers: ['w1'], maxOps: 300, maxPayloadBytes: 6 * 1024 });
    clusters.push(c);
    const g = await c.addGateway();
    const sent: SentMessage[] = [];
    c.network.tap((msg) => sent.push(msg));
    await g.service.createShow(showInput('stadium', 100, 100));
    const view = await g.service.getShow('stadium');
    assert.equal(view.seats.length, 10_000);
    const fromWorker = sent.filter((msg) => msg.from === 'w1' && msg.parted);
    assert.ok(fromWorker.length > 1, 'the map result went in parts');

    sent.length = 0;
    const holds = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        g.service.hold('stadium', { count: 1 }, { idempotencyKey: `client-key-${i}-${'x'.repeat(40)}` }),
      ),
    );
    assert.equal(new Set(holds.flatMap((h) => h.seats)).size, 300);
    const toWorker = sent.filter((msg) => msg.from === 'g1');
    assert.ok(
      toWorker.some((msg) => msg.parted),
      'a pack went in parts',
    );
    for (const msg of sent) assert.ok(msg.bytes <= 6 * 1024, `a ${msg.bytes}-byte message exceeded the limit`);
    const after = await g.service.getShow('stadium');
    assert.equal(after.seats.filter((s) => s.status !== 'available').length, 300);
  });
});
