/**
 * The far end of the routing-hop bench, in its own process: a WorkerEndpoint over an
 * in-memory seat node (no disk, no JetStream: only the hop is measured) on `<prefix>.cmd.hop`,
 * and a bare responder on `<prefix>.bare` that answers every request at once (the NATS
 * request/reply ceiling). Prints "ready" when subscribed; exits on SIGTERM.
 */
import { connect } from 'nats';
import pino from 'pino';
import { StaticPlacement, WorkerEndpoint } from '../../src/cluster/index.ts';
import { createSeatNode } from '../../src/node.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { clusterSubjects } from '../../src/subjects.ts';
import { benchShowInput } from '../../testkit/shows.ts';

const prefix = process.env.HOP_PREFIX ?? 'hopbench';
const shows = Number(process.env.HOP_SHOWS ?? 20);
const logger = pino({ level: 'warn' });
const storage = openMemoryStorage(logger);
const node = createSeatNode(
  { holdTokenSecret: 'hop-bench-secret-0123456789', snapshotEveryEvents: 1_000_000, snapshotEveryMs: 3_600_000 },
  storage,
  logger,
);
// One booking per show: the read-only hop op fetches it through the show's actor.
const bookings: string[] = [];
for (let i = 0; i < shows; i++) {
  await node.service.createShow(benchShowInput(`hop-${i}`, 20, 50));
  const h = await node.service.hold(`hop-${i}`, { seats: ['R19-50'] });
  bookings.push((await node.service.confirm(`hop-${i}`, h.holdId, h.holdToken, {})).bookingId);
}
const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222', name: 'hop-worker' });
const endpoint = new WorkerEndpoint({
  nc,
  subject: clusterSubjects(prefix).commands('hop'),
  service: node.service,
  placement: new StaticPlacement('hop', ['hop']),
  logger,
});
endpoint.start();
const ok = new TextEncoder().encode('{"results":[{"ok":true}]}');
nc.subscribe(`${prefix}.bare`, { callback: (_err, msg) => msg.respond(ok) });
await nc.flush();
process.stdout.write(`ready ${JSON.stringify(bookings)}\n`);
process.on('SIGTERM', () => {
  void endpoint
    .close()
    .then(() => nc.close())
    .then(() => process.exit(0));
});
