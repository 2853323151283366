import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { CLIENT_FRAMES, SERVER_FRAMES } from '../../src/contract/asyncapi.ts';
import { showBody, startTestServer, type TestServer } from '../support/start-server.ts';
import { undescribed } from '../support/undescribed.ts';
import { until } from '../../testkit/wait.ts';

type Frame = Record<string, any>;

/** A socket that keeps every frame it received, in order. */
async function connect(srv: TestServer): Promise<{ ws: WebSocket; frames: Frame[]; send(f: Frame): void }> {
  const ws = new WebSocket(`${srv.url.replace('http', 'ws')}/v1/ws`);
  const frames: Frame[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(String(data))));
  await once(ws, 'open');
  return {
    ws,
    frames,
    send(f) {
      // What the page and clients send must be what the description says they may.
      const doc = CLIENT_FRAMES[f.type];
      assert.ok(doc, `${f.type} is a described client frame`);
      assert.ok(doc.schema.safeParse(f).success, `${f.type} frame fits its schema`);
      ws.send(JSON.stringify(f));
    },
  };
}

describe('ws: the AsyncAPI description matches the frames the server sends', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
    assert.equal((await srv.request('POST', '/v1/shows', { admin: true, body: showBody('wsc') })).status, 201);
  });
  after(() => srv.stop());

  it('snapshot, delta, result, error and subscribed frames parse with their schemas and carry no undescribed field', async () => {
    const c = await connect(srv);
    const seen = () => new Set(c.frames.map((f) => f.type));
    c.send({ type: 'subscribe', showId: 'wsc' });
    await until(() => seen().has('snapshot'), 10_000, 'snapshot');
    c.send({ type: 'hold', requestId: 'r1', showId: 'wsc', seats: ['A-1', 'A-2'] });
    const held = await until(() => c.frames.find((f) => f.type === 'result' && f.requestId === 'r1'), 10_000, 'hold result');
    c.send({ type: 'extend', requestId: 'r2', showId: 'wsc', holdId: held.holdId, holdToken: held.holdToken, ttlSeconds: 60 });
    c.send({ type: 'confirm', requestId: 'r3', showId: 'wsc', holdId: held.holdId, holdToken: held.holdToken });
    c.send({ type: 'hold', requestId: 'r4', showId: 'wsc', seats: ['A-2'] });
    await until(() => c.frames.some((f) => f.requestId === 'r4'), 10_000, 'refused hold');
    c.send({ type: 'hold', requestId: 'r5', showId: 'wsc', count: 1 });
    const other = await until(() => c.frames.find((f) => f.type === 'result' && f.requestId === 'r5'), 10_000, 'second hold');
    c.send({ type: 'release', requestId: 'r6', showId: 'wsc', holdId: other.holdId, holdToken: other.holdToken });
    await until(() => c.frames.some((f) => f.requestId === 'r6'), 10_000, 'release result');
    await until(() => c.frames.some((f) => f.type === 'delta'), 10_000, 'a delta');
    // A resume from an older version: the missed deltas, then `subscribed`.
    const snapshot = c.frames.find((f) => f.type === 'snapshot')!;
    c.send({ type: 'subscribe', showId: 'wsc', fromVersion: snapshot.version });
    await until(() => seen().has('subscribed'), 10_000, 'subscribed');
    c.ws.close();

    for (const type of ['snapshot', 'delta', 'result', 'error', 'subscribed']) assert.ok(seen().has(type), `saw a ${type} frame`);
    assert.equal(c.frames.find((f) => f.requestId === 'r4')?.code, 'SEAT_UNAVAILABLE');
    for (const f of c.frames) {
      const doc = SERVER_FRAMES[f.type];
      assert.ok(doc, `${f.type} is a described server frame`);
      const parsed = doc.schema.safeParse(f);
      assert.ok(parsed.success, `${f.type}: ${parsed.success ? '' : parsed.error.message}`);
      assert.deepEqual(undescribed(doc.schema, f), [], `${f.type}: every field is described`);
    }
    const ops = new Set(c.frames.filter((f) => f.type === 'result').map((f) => f.op));
    assert.deepEqual([...ops].sort(), ['confirm', 'extend', 'hold', 'release']);
  });
});
