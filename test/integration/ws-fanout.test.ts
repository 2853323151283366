import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { showDef } from '../../testkit/shows.ts';
import { MapReplica, startWsServer, type Frame, type WsTestServer } from './ws-harness.ts';

const SUBSCRIBERS = 1_000;
const SEAT_CHANGES = 5_000;
const TICK_MS = 50;

/** A watcher that behaves like a real client: applies frames, resubscribes on a gap. */
class Watcher {
  readonly replica = new MapReplica();
  readonly deltaTs: number[] = [];
  resubscribes = 0;
  private target = Infinity;
  private reached: (() => void) | null = null;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => this.onFrame(JSON.parse(String(data)) as Frame));
  }

  private onFrame(f: Frame): void {
    if (f.type === 'delta') this.deltaTs.push(f.ts);
    const gapsBefore = this.replica.gaps;
    this.replica.apply(f);
    if (this.replica.gaps > gapsBefore) {
      this.resubscribes++;
      this.ws.send(JSON.stringify({ type: 'subscribe', showId: 's1', fromVersion: this.replica.version }));
    }
    if (this.replica.version >= this.target) this.reached?.();
  }

  until(version: number): Promise<void> {
    if (this.replica.version >= version) return Promise.resolve();
    this.target = version;
    return new Promise((resolve) => (this.reached = resolve));
  }
}

let srv: WsTestServer;
const watchers: Watcher[] = [];

before(async () => {
  srv = await startWsServer({ shows: [showDef('s1', 20, 25)], ws: { tickMs: TICK_MS } });
});
after(async () => {
  for (const w of watchers) w.ws.terminate();
  await srv.stop();
});

test(`${SUBSCRIBERS} subscribers, a burst of ${SEAT_CHANGES} seat changes: every one ends with the server's map`, {
  timeout: 120_000,
}, async () => {
  for (let i = 0; i < SUBSCRIBERS; i += 100) {
    const batch = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const ws = new WebSocket(srv.wsUrl, { perMessageDeflate: false });
        await once(ws, 'open');
        const w = new Watcher(ws);
        ws.send(JSON.stringify({ type: 'subscribe', showId: 's1' }));
        return w;
      }),
    );
    watchers.push(...batch);
  }
  const start = (await srv.node.service.getSeatMap('s1')).version;
  await Promise.all(watchers.map((w) => w.until(start)));
  assert.equal(srv.ws.stats().channels, 1, 'one channel for the show, however many watchers');

  // The burst: 40 buyers hold 1-4 seats (best available) and release them, until 5,000 seat changes.
  const svc = srv.node.service;
  let changes = 0;
  const buyer = async () => {
    while (changes < SEAT_CHANGES) {
      try {
        const h = await svc.hold('s1', { count: 1 + (changes % 4) });
        changes += h.seats.length;
        await svc.release('s1', h.holdId, h.holdToken);
        changes += h.seats.length;
      } catch {
        // SEAT_UNAVAILABLE when the map is momentarily full: try again.
      }
    }
  };
  await Promise.all(Array.from({ length: 40 }, buyer));
  // Leave a final pattern that differs from the start.
  await svc.hold('s1', { seats: ['A-1', 'A-2', 'T-25'] });

  const final = await svc.getSeatMap('s1');
  await Promise.all(watchers.map((w) => w.until(final.version)));
  for (const w of watchers) {
    assert.equal(w.replica.version, final.version);
    assert.equal(w.replica.compact, final.seats);
  }
  const resyncs = watchers.reduce((n, w) => n + w.resubscribes, 0);
  assert.equal(resyncs, 0, 'deltas were contiguous for every watcher');
  // Coalescing: one frame per tick at most, so consecutive frames are a tick apart (ts is in whole ms).
  for (const w of watchers.slice(0, 50)) {
    for (let i = 1; i < w.deltaTs.length; i++) assert.ok(w.deltaTs[i] - w.deltaTs[i - 1] >= TICK_MS - 2);
  }
  const frames = watchers[0].deltaTs.length;
  assert.ok(frames < SEAT_CHANGES / 10, `${frames} frames carried ${changes} changes`);
});
