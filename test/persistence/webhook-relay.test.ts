import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openEmbeddedStorage } from '../../src/persistence/embedded.ts';
import type { OutEvent } from '../../src/projections/out-events.ts';
import { verifyWebhookSignature, webhookSignature } from '../../src/projections/webhook-relay.ts';
import { showInput } from '../../testkit/shows.ts';
import { until } from '../../testkit/wait.ts';
import { silentLogger, tempDir } from './temp-dir.ts';

const SECRET = 'webhook-test-secret-0123456789';

/** A webhook receiver: checks each signature, answers 500 while told to fail. */
class Receiver {
  readonly accepted: OutEvent[] = [];
  rejected = 0;
  badSignatures = 0;
  missingTimestamps = 0;
  /** Answer 500 to this many more requests. */
  failNext = 0;
  failing = false;
  private server: Server | null = null;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (!verifyWebhookSignature(SECRET, body, String(req.headers['seats-signature'] ?? ''))) this.badSignatures++;
        if (!/^\d+$/.test(String(req.headers['seats-timestamp'] ?? ''))) this.missingTimestamps++;
        if (this.failing || this.failNext > 0) {
          this.failNext = Math.max(0, this.failNext - 1);
          this.rejected++;
          res.writeHead(500).end();
          return;
        }
        this.accepted.push(JSON.parse(body) as OutEvent);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/hooks/seats`;
  }

  confirmedBookings(): Set<string> {
    return new Set(this.accepted.flatMap((e) => (e.type === 'BookingConfirmed' ? [e.booking.bookingId] : [])));
  }

  close(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

async function open(dir: string, url: string): Promise<SeatNode> {
  const storage = await openEmbeddedStorage(dir, silentLogger);
  return createSeatNode(
    { holdTokenSecret: SECRET, snapshotEveryEvents: 10, snapshotEveryMs: 600_000, webhookUrl: url, webhookSecret: SECRET },
    storage,
    silentLogger,
  );
}

async function confirmSome(node: SeatNode, showId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const h = await node.service.hold(showId, { count: 1 });
    ids.push((await node.service.confirm(showId, h.holdId, h.holdToken, { paymentRef: `p-${i}` })).bookingId);
  }
  return ids;
}

describe('webhook relay (embedded)', () => {
  it('signs the raw body with HMAC-SHA256', () => {
    const body = '{"eventId":"s1:3"}';
    const sig = webhookSignature(SECRET, body);
    assert.match(sig, /^sha256=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(SECRET, body, sig), true);
    assert.equal(verifyWebhookSignature(SECRET, body.replace('3', '4'), sig), false);
    assert.equal(verifyWebhookSignature('another-secret-0123456789', body, sig), false);
  });

  it('delivers every out-event signed, through receiver failures and across a restart of the relay', async () => {
    const dir = await tempDir('seats-webhook-');
    const receiver = new Receiver();
    const url = await receiver.start();
    let node: SeatNode | null = null;
    try {
      node = await open(dir.path, url);
      const showId = 'webhook-show';
      await node.service.createShow(showInput(showId, 4, 25));
      // The receiver fails the first few deliveries: the relay retries with backoff.
      receiver.failNext = 4;
      const first = await confirmSome(node, showId, 8);
      await until(() => first.every((id) => receiver.confirmedBookings().has(id)), 20_000, 'the first confirms delivered');
      assert.ok(receiver.rejected >= 4, 'the receiver refused some');
      assert.ok((node.outRelay?.stats().failures ?? 0) >= 4, 'the relay counted the failures');

      // The receiver goes down for good; the node stops with those out-events undelivered.
      receiver.failing = true;
      const second = await confirmSome(node, showId, 6);
      await node.close();
      node = null;
      for (const id of second) assert.ok(!receiver.confirmedBookings().has(id), `${id} not delivered before the restart`);

      // Receiver back, relay restarted: the undelivered ones come from the log.
      receiver.failing = false;
      node = await open(dir.path, url);
      await until(() => second.every((id) => receiver.confirmedBookings().has(id)), 20_000, 'the confirms of before the restart');

      assert.equal(receiver.badSignatures, 0, 'every request signed with the secret');
      assert.equal(receiver.missingTimestamps, 0);
      const firstSeen = new Map<string, OutEvent>();
      for (const e of receiver.accepted) if (!firstSeen.has(e.eventId)) firstSeen.set(e.eventId, e);
      const versions = [...firstSeen.values()].filter((e) => e.showId === showId).map((e) => e.version);
      assert.deepEqual(
        versions,
        [...versions].sort((a, b) => a - b),
        'first deliveries in version order',
      );
      const confirmed = [...firstSeen.values()].filter((e) => e.type === 'BookingConfirmed');
      assert.equal(confirmed.length, first.length + second.length, 'each booking once after dedup by eventId');
    } finally {
      await node?.close();
      await receiver.close();
      await dir.remove();
    }
  });
});
