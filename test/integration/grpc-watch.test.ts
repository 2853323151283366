import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, createShow, poll, startHarness, until, type Client, type Harness } from './grpc-harness.ts';

const STATUS_BY_CHAR: Record<string, string> = { a: 'available', h: 'held', b: 'booked', x: 'blocked' };

/**
 * A WatchShow client that keeps the map the way a real watcher would: it replaces its map
 * on a snapshot and applies a delta only if its from_version is the version it holds.
 */
class Watcher {
  readonly stream: grpc.ClientReadableStream<any>;
  readonly seats = new Map<string, string>();
  version = -1;
  snapshots = 0;
  deltas = 0;
  /** Every message in arrival order: ['snapshot', version] or ['delta', from, to]. */
  readonly log: Array<[string, number, number?]> = [];
  readonly problems: string[] = [];
  ended: grpc.ServiceError | 'end' | null = null;
  private readonly wakers = new Set<() => void>();

  constructor(client: Client, request: object) {
    this.stream = client.WatchShow(request);
    this.stream.on('data', (u: any) => {
      if (u.update === 'snapshot') this.onSnapshot(u.snapshot);
      else this.onDelta(u.delta);
      this.wake();
    });
    this.stream.on('error', (err: grpc.ServiceError) => {
      this.ended = err;
      this.wake();
    });
    this.stream.on('end', () => {
      this.ended ??= 'end';
      this.wake();
    });
  }

  private onSnapshot(m: any): void {
    this.snapshots++;
    this.log.push(['snapshot', m.version]);
    this.seats.clear();
    m.labels.forEach((label: string, i: number) => {
      this.seats.set(label, STATUS_BY_CHAR[m.statuses[i]]);
    });
    this.version = m.version;
  }

  private onDelta(d: any): void {
    this.deltas++;
    this.log.push(['delta', d.from_version, d.version]);
    if (d.from_version !== this.version) this.problems.push(`delta ${d.from_version}→${d.version} while at ${this.version}`);
    for (const c of d.changes) this.seats.set(c.id, c.status);
    this.version = d.version;
  }

  private wake(): void {
    for (const w of [...this.wakers]) w();
  }

  /** Waits for a condition on this watcher, re-checked on every message. */
  until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
    const subscribe = (w: () => void) => {
      this.wakers.add(w);
      return () => this.wakers.delete(w);
    };
    return until(check, subscribe, ms, what);
  }
}

async function serverMap(client: Client, showId: string): Promise<{ version: number; seats: Map<string, string> }> {
  const show = await call(client, 'GetShow', { show_id: showId });
  return { version: show.version, seats: new Map(show.seats.map((s: any) => [s.id, s.status])) };
}

describe('grpc WatchShow', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.stop();
  });

  it('sends a snapshot, then every change in version order', async () => {
    await createShow(h.client, 'w-order', 4, 10);
    const w = new Watcher(h.client, { show_id: 'w-order' });
    await w.until(() => w.snapshots === 1, 'the snapshot');
    assert.equal(w.log[0][0], 'snapshot');

    // Another client changes the show: sequential calls, then a concurrent burst that the
    // actor commits in batches (one delta spanning several versions).
    const other: Client = h.client;
    const a = await call(other, 'Hold', { show_id: 'w-order', seats: ['A-1', 'A-2'] });
    const b = await call(other, 'Hold', { show_id: 'w-order', count: 3 });
    await call(other, 'Confirm', { show_id: 'w-order', hold_id: a.hold_id, hold_token: a.hold_token });
    await call(other, 'ExtendHold', { show_id: 'w-order', hold_id: b.hold_id, hold_token: b.hold_token });
    await call(other, 'Release', { show_id: 'w-order', hold_id: b.hold_id, hold_token: b.hold_token });
    const burst = await Promise.all(
      ['B', 'C', 'D'].flatMap((row) =>
        [1, 3, 5, 7, 9].map((n) => call(other, 'Hold', { show_id: 'w-order', seats: [`${row}-${n}`, `${row}-${n + 1}`] })),
      ),
    );
    await Promise.all(
      burst.map((x, i) =>
        i % 2
          ? call(other, 'Release', { show_id: 'w-order', hold_id: x.hold_id, hold_token: x.hold_token })
          : call(other, 'Confirm', { show_id: 'w-order', hold_id: x.hold_id, hold_token: x.hold_token }),
      ),
    );

    const final = await serverMap(h.client, 'w-order');
    await w.until(() => w.version >= final.version, `version ${final.version}`);
    assert.deepEqual(w.problems, []);
    assert.equal(w.snapshots, 1, `no resync was needed: ${JSON.stringify(w.log)}`);
    for (let i = 2; i < w.log.length; i++) assert.equal(w.log[i][1], w.log[i - 1][2] ?? w.log[i - 1][1], 'contiguous versions');
    assert.equal(w.version, final.version);
    assert.deepEqual(w.seats, final.seats);
    w.stream.cancel();
  });

  it('from_version at the current version sends no snapshot, an old one does', async () => {
    await createShow(h.client, 'w-resume');
    await call(h.client, 'Hold', { show_id: 'w-resume', seats: ['A-1'] });
    const { version } = await serverMap(h.client, 'w-resume');

    const base = h.watchers();
    const current = new Watcher(h.client, { show_id: 'w-resume', from_version: version });
    const stale = new Watcher(h.client, { show_id: 'w-resume', from_version: 1 });
    await stale.until(() => stale.snapshots === 1, 'the stale watcher snapshot');
    // The up-to-date watcher gets no message to wait for: wait for its subscription instead.
    await poll(() => h.watchers() === base + 2, 5_000, 'both subscriptions');
    await call(h.client, 'Hold', { show_id: 'w-resume', seats: ['A-2'] });
    await current.until(() => current.version === version + 1, 'the next delta');
    assert.deepEqual(current.log, [['delta', version, version + 1]]);
    await stale.until(() => stale.version === version + 1, 'the next delta (stale)');
    assert.equal(stale.log[0][0], 'snapshot');
    current.stream.cancel();
    stale.stream.cancel();
  });

  it('a watch of an unknown show fails with SHOW_NOT_FOUND; bad input with INVALID_ARGUMENT', async () => {
    const missing = new Watcher(h.client, { show_id: 'w-missing' });
    await missing.until(() => missing.ended !== null, 'the stream to fail');
    assert.notEqual(missing.ended, 'end');
    const err = missing.ended as grpc.ServiceError;
    assert.equal(err.code, grpc.status.NOT_FOUND);
    assert.equal(err.metadata.get('error-code')[0], 'SHOW_NOT_FOUND');
    const bad = new Watcher(h.client, { show_id: 'w bad' });
    await bad.until(() => bad.ended !== null, 'the stream to fail');
    assert.equal((bad.ended as grpc.ServiceError).metadata.get('error-code')[0], 'INVALID_ARGUMENT');
  });

  it('cancelling the stream gives the subscription back', async () => {
    await createShow(h.client, 'w-cancel');
    const base = h.watchers();
    const w = new Watcher(h.client, { show_id: 'w-cancel' });
    await w.until(() => w.snapshots === 1, 'the snapshot');
    assert.equal(h.watchers(), base + 1);
    w.stream.cancel();
    await w.until(() => w.ended !== null, 'the cancel');
    assert.equal((w.ended as grpc.ServiceError).code, grpc.status.CANCELLED);
    // The server learns of the cancel asynchronously.
    await poll(() => h.watchers() === base, 5_000, 'the subscription to be given back');
  });

  it('a watcher that stops reading gets no backlog, but one fresh snapshot when it reads again', async () => {
    await createShow(h.client, 'w-slow', 20, 50);
    const w = new Watcher(h.client, { show_id: 'w-slow' });
    await w.until(() => w.snapshots === 1, 'the snapshot');
    w.stream.pause();
    // 3,000 deltas of ~200 bytes: far past the 64 KiB HTTP/2 window plus the server's
    // 256 KiB budget of unflushed deltas.
    const PAIRS = 1_500;
    const { service } = h.node;
    for (let i = 0; i < PAIRS; i++) {
      const row = String.fromCharCode(65 + (i % 20));
      const seats = Array.from({ length: 10 }, (_, n) => `${row}-${n + 1 + 10 * (i % 5)}`);
      const hold = await service.hold('w-slow', { seats });
      await service.release('w-slow', hold.holdId, hold.holdToken);
    }
    const kept = await service.hold('w-slow', { seats: ['A-1', 'A-2'] });
    await service.confirm('w-slow', kept.holdId, kept.holdToken, {});
    await service.hold('w-slow', { seats: ['T-50'] });
    const final = await serverMap(h.client, 'w-slow');
    w.stream.resume();
    await w.until(() => w.version === final.version, `version ${final.version}`);
    assert.deepEqual(w.problems, []);
    assert.ok(w.snapshots >= 2, 'the watcher was resynced with a snapshot');
    assert.ok(w.deltas < PAIRS, `${w.deltas} deltas delivered of ${2 * PAIRS + 3}: the backlog was dropped`);
    assert.deepEqual(w.seats, final.seats);
    w.stream.cancel();
  });
});
