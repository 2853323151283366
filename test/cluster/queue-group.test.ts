import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type NatsConnection } from 'nats';
import { OwnerBatcher, RemoteSeatService, StaticPlacement, WorkerEndpoint } from '../../src/cluster/index.ts';
import { mapWireOf } from '../../src/cluster/show-map-wire.ts';
import { logger } from '../../src/logger.ts';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { clusterSubjects } from '../../src/subjects.ts';
import { showInput } from '../../testkit/shows.ts';
import { SERVICE_URLS, needServices, uniqueName } from '../../testkit/services.ts';

/**
 * The second guard against two processes with one NODE_ID (the claim at start is the first):
 * endpoints on the same command subject form a queue group, so each request reaches one of
 * them, never both (without it, both would answer and the faster one would win).
 */
describe('worker command subscriptions', { skip: await needServices('nats') }, () => {
  let nc: NatsConnection;
  let node: SeatNode;
  let endpoints: WorkerEndpoint[];
  let batcher: OwnerBatcher;
  let remote: RemoteSeatService;

  before(async () => {
    nc = await connect({ servers: SERVICE_URLS.nats });
    node = createSeatNode(
      { holdTokenSecret: 'queue-group-secret-0123456789', snapshotEveryEvents: 100_000, snapshotEveryMs: 3_600_000 },
      openMemoryStorage(logger),
      logger,
    );
    const prefix = uniqueName('qg').toLowerCase();
    const subject = clusterSubjects(prefix).commands('w1');
    endpoints = [0, 1].map(
      () =>
        new WorkerEndpoint({
          nc,
          subject,
          service: node.service,
          placement: new StaticPlacement('w1', ['w1']),
          logger,
          readMap: (showId) => node.host.read(showId, mapWireOf),
        }),
    );
    for (const e of endpoints) e.start();
    await nc.flush();
    batcher = new OwnerBatcher({ nc, subjectOf: clusterSubjects(prefix).commands, maxOps: 1, logger });
    remote = new RemoteSeatService({
      placement: new StaticPlacement(null, ['w1']),
      batcher,
      catalog: node.storage.catalog,
      bus: node.storage.bus,
      requestTimeoutMs: 10_000,
      attemptTimeoutMs: 5_000,
      logger,
    });
  });
  after(async () => {
    batcher?.close();
    for (const e of endpoints ?? []) await e.close();
    await node?.close();
    await nc?.close();
  });

  it('delivers each request to one endpoint of the subject', async () => {
    await remote.createShow(showInput('qg-1', 2, 10), { idempotencyKey: 'qg-create', caller: 'admin:ops' });
    for (let i = 0; i < 20; i++) await remote.getShow('qg-1');
    const messages = endpoints.map((e) => e.counts.messages);
    assert.equal(messages[0] + messages[1], 21, `messages per endpoint: ${JSON.stringify(messages)}`);
  });
});
