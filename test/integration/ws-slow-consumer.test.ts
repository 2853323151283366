import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MapReplica, TestClient } from './ws-harness.ts';

const CAP = 1024 * 1024;
const STALE_TIMEOUT_MS = 4_000;
/**
 * Memory the server may gain while readers are stuck, measured after a GC each time (heap
 * used + external buffers; and RSS). With the cap off it gains ~30 MB/s here, without end.
 */
const RETAINED_GROWTH_LIMIT = 16 * 1024 * 1024;
const RSS_GROWTH_LIMIT = 64 * 1024 * 1024;

let child: ChildProcess;
let wsUrl: string;
let seq = 0;
const pending = new Map<number, (m: any) => void>();

function ask(cmd: string): Promise<any> {
  const id = ++seq;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    child.send({ id, cmd });
  });
}

/** Polls the server until `pred` holds (the server reports state; there is no event to wait on). */
async function until<T>(probe: () => Promise<T>, pred: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (pred(v)) return v;
    if (Date.now() > deadline) throw new Error(`condition not reached; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const socketOf = (c: TestClient) => (c.ws as unknown as { _socket: Socket })._socket;

before(async () => {
  const script = fileURLToPath(new URL('./ws-child-server.ts', import.meta.url));
  const opts = { rows: 40, seatsPerRow: 500, ws: { bufferedCapBytes: CAP, staleTimeoutMs: STALE_TIMEOUT_MS, tickMs: 50 } };
  child = fork(script, [JSON.stringify(opts)], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  wsUrl = await new Promise((resolve) => {
    child.on('message', (m: any) => {
      if (m.id === 0) resolve(m.wsUrl);
      else pending.get(m.id)?.(m);
    });
  });
});
after(async () => {
  child.send({ id: -1, cmd: 'exit' });
  await new Promise((r) => child.once('exit', r));
});

test('a client that never reads cannot grow server memory: capped buffer, then cut off; a reader that drains gets a snapshot', {
  timeout: 60_000,
}, async (t) => {
  const clients = await Promise.all([0, 1, 2].map(() => TestClient.connect(wsUrl)));
  const [healthy, stuck, recovering] = clients;
  const replicas = clients.map(() => new MapReplica());
  clients.forEach((c, i) => {
    c.ws.on('message', (data) => replicas[i].apply(JSON.parse(String(data))));
    c.send({ type: 'subscribe', showId: 'big' });
  });
  await Promise.all(clients.map((c) => c.next((f) => f.type === 'snapshot')));
  // Warm up with everyone reading, so the baseline includes the flood's own garbage churn.
  await ask('flood');
  let maxBuffered = 0;
  let maxRss = 0;
  let maxRetained = 0;
  const probe = async () => {
    const s = await ask('stats');
    maxBuffered = Math.max(maxBuffered, s.ws.maxBufferedAmount);
    maxRss = Math.max(maxRss, s.rss);
    maxRetained = Math.max(maxRetained, s.retained);
    return s;
  };
  await until(probe, (s) => s.floodCommands >= 150, 20_000);
  const baseline = maxRss;
  const retainedBaseline = maxRetained;
  socketOf(stuck).pause();
  socketOf(recovering).pause();

  // Both readers fall behind and go stale; then one starts reading again.
  await until(probe, (s) => s.ws.staleSockets >= 2, 30_000);
  const snapshotsBefore = replicas[2].snapshots;
  socketOf(recovering).resume();
  // The one still stuck is terminated after the stale timeout; the other two remain.
  await until(probe, (s) => s.ws.slowTerminated >= 1 && s.ws.sockets === 2, STALE_TIMEOUT_MS + 10_000);
  await ask('stop-flood');
  const map = await ask('map');

  await Promise.all(
    [0, 2].map((i) =>
      until(
        async () => replicas[i].version,
        (v) => v >= map.version,
        10_000,
      ),
    ),
  );
  for (const i of [0, 2]) {
    assert.equal(replicas[i].version, map.version);
    assert.equal(replicas[i].compact, map.seats);
  }
  assert.ok(replicas[2].snapshots > snapshotsBefore, 'the drained reader got a fresh snapshot instead of the backlog');
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  t.diagnostic(
    `server rss ${mb(baseline)} MB (+${mb(maxRss - baseline)} while stuck), retained ${mb(retainedBaseline)} MB (+${mb(maxRetained - retainedBaseline)}); bufferedAmount peak ${maxBuffered}`,
  );
  assert.ok(maxRetained - retainedBaseline < RETAINED_GROWTH_LIMIT, `server retained memory grew ${mb(maxRetained - retainedBaseline)} MB`);
  assert.ok(maxBuffered <= CAP, `bufferedAmount peaked at ${maxBuffered}`);
  assert.ok(maxRss - baseline < RSS_GROWTH_LIMIT, `server RSS grew ${mb(maxRss - baseline)} MB`);
  healthy.close();
  recovering.close();
  stuck.ws.terminate();
});
