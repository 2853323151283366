import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ErrorCode as NatsErrorCode, NatsError, connect, type NatsConnection } from 'nats';
import { HOP_MSG, HOP_PART, HOP_PARTS, partHeaders } from '../../src/cluster/hop-frames.ts';
import { NatsTransport } from '../../src/cluster/nats-transport.ts';
import { TransportError, type TransportMessage } from '../../src/cluster/transport.ts';
import { SERVICE_URLS, needServices, uniqueName } from '../../testkit/services.ts';
import { until } from '../../testkit/wait.ts';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** Long enough that a request reaching it would fail the test on its own timeout instead. */
const NEVER_MS = 120_000;

function failure(err: unknown): string {
  assert.ok(err instanceof TransportError, `expected a TransportError, got ${String(err)}`);
  return err.failure;
}

/**
 * Request/reply of the cluster transport on the real NATS server: the contract
 * (ClusterTransport) the gateway → owner hop relies on, answered through the transport's own
 * reply subscription.
 */
describe('NatsTransport request/reply', { skip: await needServices('nats') }, () => {
  let nc: NatsConnection;
  let transport: NatsTransport;
  let prefix: string;

  before(async () => {
    nc = await connect({ servers: SERVICE_URLS.nats });
    transport = new NatsTransport(nc);
    prefix = uniqueName('mux').toLowerCase();
  });

  after(async () => {
    transport.close();
    await nc.close();
  });

  test('matches each answer to its caller, hundreds at once, answered in random order', async () => {
    const subject = `${prefix}.shuffle`;
    const n = 500;
    const held: TransportMessage[] = [];
    const unsubscribe = transport.subscribe(subject, (msg) => {
      held.push(msg);
      if (held.length < n) return;
      // Every request is in: answer them all, in random order.
      for (let i = held.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [held[i], held[j]] = [held[j], held[i]];
      }
      for (const m of held) assert.equal(m.respond(text(`re:${str(m.data)}`)), true);
    });
    await transport.flush();
    try {
      const answers = await Promise.all(
        Array.from({ length: n }, (_, i) => transport.request(subject, text(String(i)), { timeoutMs: NEVER_MS }).then(str)),
      );
      assert.deepEqual(
        answers,
        Array.from({ length: n }, (_, i) => `re:${i}`),
      );
    } finally {
      unsubscribe();
    }
  });

  test("fails with 'no-responders' when nobody serves the subject", { timeout: 30_000 }, async () => {
    const err = await transport.request(`${prefix}.nobody`, text('x'), { timeoutMs: NEVER_MS }).then(
      () => assert.fail('answered'),
      (e: unknown) => e,
    );
    assert.equal(failure(err), 'no-responders');
  });

  test("fails with 'timeout' when the responder never answers, also after a request with a later deadline", async () => {
    const subject = `${prefix}.silent`;
    let received = 0;
    const unsubscribe = transport.subscribe(subject, () => void received++);
    await transport.flush();
    try {
      // The long one arms the timer first; the short one must still fail at its own deadline.
      const long = transport.request(subject, text('long'), { timeoutMs: NEVER_MS });
      long.catch(() => {});
      const short = await transport.request(subject, text('short'), { timeoutMs: 150 }).then(
        () => assert.fail('answered'),
        (e: unknown) => e,
      );
      assert.equal(failure(short), 'timeout');
      assert.equal(received, 2);
    } finally {
      unsubscribe();
    }
  });

  test('a late answer after the timeout is ignored, and the next request still gets its own', async () => {
    const subject = `${prefix}.late`;
    const held: TransportMessage[] = [];
    const unsubscribe = transport.subscribe(subject, (msg) => {
      if (str(msg.data) === 'first') held.push(msg);
      else {
        held[0]?.respond(text('late'));
        msg.respond(text('second'));
      }
    });
    await transport.flush();
    try {
      const first = await transport.request(subject, text('first'), { timeoutMs: 100 }).then(
        () => assert.fail('answered'),
        (e: unknown) => e,
      );
      assert.equal(failure(first), 'timeout');
      assert.equal(str(await transport.request(subject, text('second'), { timeoutMs: NEVER_MS })), 'second');
    } finally {
      unsubscribe();
    }
  });

  test('delivers the headers to the responder', async () => {
    const subject = `${prefix}.headers`;
    const unsubscribe = transport.subscribe(subject, (msg) => {
      const h = msg.headers;
      msg.respond(text(h ? `${h.get(HOP_MSG)} ${h.get(HOP_PART)}/${h.get(HOP_PARTS)}` : 'none'));
    });
    await transport.flush();
    try {
      const withHeaders = await transport.request(subject, text('x'), { timeoutMs: NEVER_MS, headers: partHeaders('m-1', 2, 3) });
      assert.equal(str(withHeaders), 'm-1 2/3');
      assert.equal(str(await transport.request(subject, text('x'), { timeoutMs: NEVER_MS })), 'none');
    } finally {
      unsubscribe();
    }
  });

  test('a publish after a request of the same turn reaches the subject after it', async () => {
    const subject = `${prefix}.order`;
    const seen: string[] = [];
    const unsubscribe = transport.subscribe(subject, (msg) => {
      seen.push(str(msg.data));
      msg.respond(text('ok'));
    });
    await transport.flush();
    try {
      const answer = transport.request(subject, text('request'), { timeoutMs: NEVER_MS });
      transport.publish(subject, text('publish'));
      assert.equal(str(await answer), 'ok');
      await until(() => seen.length === 2, 10_000, 'both messages');
      assert.deepEqual(seen, ['request', 'publish']);
    } finally {
      unsubscribe();
    }
  });

  test('a closed transport fails its waiting requests; the next request listens afresh', async () => {
    const subject = `${prefix}.reopen`;
    const unsubscribe = transport.subscribe(subject, (msg) => {
      if (str(msg.data) === 'answer me') msg.respond(text('answered'));
    });
    await transport.flush();
    try {
      const waiting = transport.request(subject, text('hold'), { timeoutMs: NEVER_MS });
      await transport.flush();
      transport.close();
      await assert.rejects(waiting, (e: unknown) => e instanceof NatsError && e.code === NatsErrorCode.ConnectionClosed);
      assert.equal(str(await transport.request(subject, text('answer me'), { timeoutMs: NEVER_MS })), 'answered');
    } finally {
      unsubscribe();
    }
  });
});

describe('NatsTransport request/reply when the connection closes', { skip: await needServices('nats') }, () => {
  test('fails every waiting request, and refuses new ones', async () => {
    const server = await connect({ servers: SERVICE_URLS.nats });
    const client = await connect({ servers: SERVICE_URLS.nats });
    const serving = new NatsTransport(server);
    const transport = new NatsTransport(client);
    const subject = `${uniqueName('mux').toLowerCase()}.closing`;
    let received = 0;
    const unsubscribe = serving.subscribe(subject, () => void received++);
    await serving.flush();
    try {
      const waiting = Array.from({ length: 20 }, (_, i) => transport.request(subject, text(String(i)), { timeoutMs: NEVER_MS }));
      await until(() => received === 20, 10_000, 'the requests to arrive');
      await client.close();
      const results = await Promise.allSettled(waiting);
      for (const r of results) {
        assert.equal(r.status, 'rejected');
        assert.ok(r.reason instanceof NatsError && r.reason.code === NatsErrorCode.ConnectionClosed, String(r.reason));
      }
      await assert.rejects(
        transport.request(subject, text('after'), { timeoutMs: NEVER_MS }),
        (e: unknown) => e instanceof NatsError && e.code === NatsErrorCode.ConnectionClosed,
      );
    } finally {
      unsubscribe();
      await server.close();
      if (!client.isClosed()) await client.close();
    }
  });
});
