import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import type { CommittedBatch } from '../../src/actors/show-actor.ts';
import { SEAT_STATUSES } from '../../src/actors/types.ts';
import { compactStatuses, showView } from '../../src/actors/views.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { ViewCache, type ViewCacheOptions } from '../../src/service/view-cache.ts';
import { showDef } from '../../testkit/shows.ts';
import { seatLabels } from '../../src/actors/seat-map.ts';

const logger = pino({ level: 'silent' });

interface Rig {
  host: ActorHost;
  cache: ViewCache;
  clock: { now: number };
  /** Seat statuses (as names) of every committed version, recorded by the commit hook. */
  committed: Map<number, string[]>;
}

function rig(opts: Partial<ViewCacheOptions> = {}): Rig {
  const storage = openMemoryStorage(logger);
  const committed = new Map<number, string[]>();
  const onCommitted = (b: CommittedBatch) =>
    committed.set(
      b.state.version,
      Array.from(b.state.seatStatus, (s) => SEAT_STATUSES[s]),
    );
  const host = new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger, onCommitted });
  const clock = { now: 1_000_000 };
  const cache = new ViewCache((id, fn) => host.read(id, fn), { now: () => clock.now, ...opts });
  return { host, cache, clock, committed };
}

/** The body of the object form, as the HTTP door serialized it per request. */
function objectCompact(host: ActorHost, id: string): Promise<string> {
  return host.read(id, (s) =>
    JSON.stringify({
      showId: id,
      version: s.version,
      layoutVersion: s.layoutVersion,
      status: s.status,
      labels: seatLabels(s.seatMap),
      categoryOf: Array.from(s.seatMap.categoryOf),
      categories: s.def.categories,
      seats: compactStatuses(s),
      rows: s.seatMap.rows,
    }),
  );
}

const parse = (b: Buffer) =>
  JSON.parse(b.toString('utf8')) as { version: number; seats: Array<{ status: string }> | string; counts?: Record<string, number> };

describe('view cache', () => {
  it('serializes exactly what the object forms serialize, small and sliced', async () => {
    for (const bigSeats of [1_000_000, 1]) {
      const { host, cache } = rig({ bigSeats, chunkSeats: 7, maxStaleMs: 0 });
      const def = showDef('v', 3, 9, {
        categories: [
          { id: 'gold', price: 50000, currency: 'INR' },
          { id: 'sil"ver', price: 20000, currency: 'INR' },
        ],
        layout: {
          sections: [
            {
              id: 'left',
              rows: [
                { label: 'A', seats: 9, category: 'gold' },
                { label: 'B', seats: 5, category: 'sil"ver' },
              ],
            },
            { id: 'right', rows: [{ label: 'A', seats: 4, category: 'gold' }] },
          ],
        },
      });
      await host.execute('v', { type: 'createShow', def, blockedSeats: ['right:A-2'] });
      await host.execute('v', { type: 'hold', holdId: 'h1', seats: ['left:A-1', 'left:B-3'] });
      await host.execute('v', { type: 'hold', holdId: 'h2', seats: ['left:A-5'] });
      await host.execute('v', { type: 'confirm', holdId: 'h2', bookingId: 'b1' });
      const full = await cache.full('v');
      assert.equal(full.bytes.toString('utf8'), await host.read('v', (s) => JSON.stringify(showView(s))));
      const compact = await cache.compact('v');
      assert.equal(compact.bytes.toString('utf8'), await objectCompact(host, 'v'));
      assert.deepEqual(await cache.compactObject('v'), JSON.parse(await objectCompact(host, 'v')));
      await host.close();
    }
  });

  it('two reads of one version share one serialization', async () => {
    for (const bigSeats of [1_000_000, 1]) {
      const { host, cache } = rig({ bigSeats, chunkSeats: 5 });
      await host.execute('s', { type: 'createShow', def: showDef('s', 4, 10) });
      // Concurrent readers (a big show: one build in flight, the rest join it) ...
      const [a, b, c] = await Promise.all([cache.full('s'), cache.full('s'), cache.full('s')]);
      // ... and later readers of the same version.
      const d = await cache.full('s');
      assert.equal(cache.stats().built, 1, `bigSeats ${bigSeats}: one build for four reads`);
      for (const other of [b, c, d]) assert.equal(other.bytes, a.bytes, 'the very same Buffer');
      const [x, y] = await Promise.all([cache.compact('s'), cache.compact('s')]);
      assert.equal(x.bytes, y.bytes);
      assert.equal(cache.stats().built, 2, 'one more build for the compact form');
      await host.close();
    }
  });

  it('a read after a commit sees the new version', async () => {
    const { host, cache } = rig();
    await host.execute('s', { type: 'createShow', def: showDef('s') });
    const before = parse((await cache.full('s')).bytes);
    const compactBefore = await cache.compactObject('s');
    await host.execute('s', { type: 'hold', holdId: 'h1', seats: ['A-3'] });
    const after = parse((await cache.full('s')).bytes);
    assert.ok(after.version > before.version);
    assert.equal((after.seats as Array<{ status: string }>)[2].status, 'held');
    const compactAfter = await cache.compactObject('s');
    assert.ok(compactAfter.version > compactBefore.version);
    assert.equal(compactAfter.seats[2], 'h');
    assert.equal(parse((await cache.compact('s')).bytes).version, after.version);
    await host.close();
  });

  it('a big show may serve a recent exact version, never older than the staleness bound', async () => {
    const { host, cache, clock, committed } = rig({ bigSeats: 10, chunkSeats: 3, maxStaleMs: 500 });
    await host.execute('s', { type: 'createShow', def: showDef('s') });
    const first = parse((await cache.full('s')).bytes);
    await host.execute('s', { type: 'hold', holdId: 'h1', seats: ['A-1'] });
    clock.now += 500;
    const recent = parse((await cache.full('s')).bytes);
    assert.equal(recent.version, first.version, 'within the bound: the cached version');
    assert.deepEqual(
      (recent.seats as Array<{ status: string }>).map((s) => s.status),
      committed.get(recent.version),
    );
    clock.now += 1;
    const fresh = parse((await cache.full('s')).bytes);
    assert.equal(fresh.version, await host.read('s', (s) => s.version), 'past the bound: the newest version');
    assert.equal((fresh.seats as Array<{ status: string }>)[0].status, 'held');
    await host.close();
  });

  it('a big view served while commands keep committing is one exact committed version', async () => {
    const { host, cache, committed } = rig({ bigSeats: 10, chunkSeats: 4, maxStaleMs: 0 });
    await host.execute('s', { type: 'createShow', def: showDef('s', 6, 10) });
    let writing = true;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; writing; i++) {
        const seat = `${'ABCDEF'[w]}-${(i % 10) + 1}`;
        const holdId = `h${w}-${i}`;
        await host.execute('s', { type: 'hold', holdId, seats: [seat] });
        if (i % 3 === 0) await host.execute('s', { type: 'confirm', holdId, bookingId: `b${w}-${i}` });
        else await host.execute('s', { type: 'release', holdId });
        if (i % 3 === 0) await host.execute('s', { type: 'cancelBookings', bookingIds: [`b${w}-${i}`] });
        // The in-memory log commits in microtasks: give the event loop (and the sliced builds) a turn.
        await new Promise((r) => setImmediate(r));
      }
    });
    const seen = new Set<number>();
    const readers = Array.from({ length: 5 }, async () => {
      for (let i = 0; i < 40; i++) {
        const view = await cache.full('s');
        const body = parse(view.bytes);
        assert.equal(body.version, view.version);
        const expected = committed.get(body.version);
        assert.ok(expected, `version ${body.version} was committed`);
        const statuses = (body.seats as Array<{ status: string }>).map((s) => s.status);
        assert.deepEqual(statuses, expected, `seat statuses at version ${body.version}`);
        const counts = body.counts as Record<string, number>;
        for (const k of ['available', 'held', 'booked', 'blocked']) assert.equal(counts[k], statuses.filter((s) => s === k).length);
        seen.add(body.version);
      }
    });
    await Promise.all(readers);
    writing = false;
    await Promise.all(writers);
    assert.ok(seen.size > 1, 'reads saw the show move on');
    assert.ok(cache.stats().built < 200, 'readers shared builds');
    await host.close();
  });

  it('stays within its byte budget and forgets shows that left', async () => {
    const { host, cache } = rig({ maxBytes: 6_000 });
    for (const id of ['a', 'b', 'c']) await host.execute(id, { type: 'createShow', def: showDef(id, 2, 10) });
    for (const id of ['a', 'b', 'c']) await cache.full(id);
    const size = (await cache.full('c')).bytes.length;
    assert.ok(cache.stats().bytes <= 6_000);
    assert.equal(cache.stats().entries, Math.floor(6_000 / size));
    await host.passivate('c');
    cache.forgetInactive((id) => host.isActive(id));
    assert.equal(cache.stats().entries, Math.floor(6_000 / size) - 1, 'the passivated show went');
    for (const id of ['a', 'b']) await host.passivate(id);
    cache.forgetInactive((id) => host.isActive(id));
    assert.equal(cache.stats().entries, 0);
    await host.close();
  });
});
