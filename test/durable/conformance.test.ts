import { describe } from 'node:test';
import { JetStreamEventLog } from '../../src/persistence/jetstream-event-log.ts';
import { migrate } from '../../src/persistence/postgres-migrations.ts';
import { createPgPool } from '../../src/persistence/postgres-pool.ts';
import { PostgresSnapshotStore } from '../../src/persistence/postgres-snapshot-store.ts';
import { runEventLogConformance, runSnapshotStoreConformance } from '../persistence/conformance.ts';
import { needServices, uniqueName } from '../../testkit/services.ts';
import { connectTestNats, createTestDatabase, deleteStream, testLogger } from './support.ts';

const skip = await needServices('postgres', 'nats');

describe('durable adapters', { skip }, () => {
  const readModes = [
    { name: 'default', opts: {} },
    { name: 'consumer from afterSeq', opts: { readFromSubjectStart: false, directReadMaxGap: 0 } },
    { name: 'consumer from subject start', opts: { readFromSubjectStart: true, directReadMaxGap: 0 } },
  ];
  for (const mode of readModes) {
    runEventLogConformance(`jetstream (reads: ${mode.name})`, async () => {
      const id = uniqueName('conf');
      const stream = `S_${id}`;
      const open = async () =>
        JetStreamEventLog.open(await connectTestNats(), {
          logger: testLogger,
          stream,
          subjectPrefix: `${id}.events`,
          ...mode.opts,
          ownsConnection: true,
        });
      let log = await open();
      return {
        log,
        reopen: async () => {
          await log.close();
          log = await open();
          return log;
        },
        cleanup: async () => {
          await log.close();
          await deleteStream(stream);
        },
      };
    });
  }

  runSnapshotStoreConformance('postgres', async () => {
    const db = await createTestDatabase('seats_conf');
    const open = async () => {
      const pool = createPgPool({ connectionString: db.url, logger: testLogger, max: 4 });
      await migrate(pool, testLogger);
      return { pool, store: new PostgresSnapshotStore(pool) };
    };
    let current = await open();
    return {
      store: current.store,
      reopen: async () => {
        await current.pool.end();
        current = await open();
        return current.store;
      },
      cleanup: async () => {
        await current.pool.end();
        await db.drop();
      },
    };
  });
});
