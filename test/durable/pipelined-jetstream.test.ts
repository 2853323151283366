import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NatsConnection } from 'nats';
import { JetStreamEventLog } from '../../src/persistence/jetstream-event-log.ts';
import { runPipelinedClients } from '../support/pipelined-clients.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { connectTestNats, deleteStream, testLogger } from './support.ts';

const skip = await needServices('nats');
const SEEDS = Number(process.env.PIPELINE_SEEDS ?? 3);

describe('pipelined commits under concurrent random clients (JetStream)', { skip }, () => {
  const id = uniqueName('pipe');
  const stream = `S_${id}`;
  let nc: NatsConnection;
  let log: JetStreamEventLog;

  before(async () => {
    nc = await connectTestNats();
    log = await JetStreamEventLog.open(nc, { logger: testLogger, stream, subjectPrefix: `${id}.events` });
  });
  after(async () => {
    await log.close();
    await nc.close();
    await deleteStream(stream);
  });

  // JetStream numbers messages across every show of the stream, so a seq is known only once
  // the append is acknowledged: each batch is published the moment the one before is.
  it('no seat sold twice, nothing acknowledged lost, answers in log order, reads only committed', async () => {
    let failures = 0;
    for (let seed = 201; seed < 201 + SEEDS; seed++) {
      const r = await runPipelinedClients({ log, showId: `js-${seed}`, seed, pipelined: true });
      failures += r.failedAppends;
    }
    assert.ok(failures > 0, 'some appends failed on the way');
  });
});
