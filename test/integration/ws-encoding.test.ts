import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeltaRing } from '../../src/gateway/ws/delta-ring.ts';
import { SeatMirror } from '../../src/gateway/ws/seat-mirror.ts';
import { TickGovernor } from '../../src/gateway/ws/tick-governor.ts';
import type { CompactSeatMap } from '../../src/service/seat-service.ts';
import { MapReplica } from './ws-harness.ts';

function map(over: Partial<CompactSeatMap>): CompactSeatMap {
  return {
    showId: 's',
    version: 3,
    layoutVersion: 1,
    status: 'scheduled',
    labels: ['main:A-101', 'main:A-102', 'pit:B-1'],
    categoryOf: [0, 0, 1],
    categories: [
      { id: 'gold', price: 1, currency: 'INR' },
      { id: 'pit', price: 2, currency: 'INR' },
    ],
    seats: 'ahb',
    rows: [
      { section: 'main', label: 'A', start: 0, count: 2 },
      { section: 'pit', label: 'B', start: 2, count: 1 },
    ],
    ...over,
  };
}

test('snapshot frames: rows describe regular labels; irregular ones are listed', () => {
  const regular = JSON.parse(new SeatMirror(map({})).snapshotFrame(true).toString());
  assert.equal(regular.labels, undefined);
  assert.equal(regular.categoryOf, undefined);
  const replica = new MapReplica();
  replica.apply(regular);
  assert.deepEqual(replica.labels, ['main:A-101', 'main:A-102', 'pit:B-1']);
  assert.equal(replica.compact, 'ahb');

  const odd = JSON.parse(
    new SeatMirror(map({ labels: ['main:A-1', 'main:A-3', 'pit:B-1'], categoryOf: [0, 1, 1] })).snapshotFrame(true).toString(),
  );
  assert.deepEqual(odd.labels, ['main:A-1', 'main:A-3', 'pit:B-1']);
  assert.deepEqual(odd.categoryOf, [0, 1, 1]);
});

test('the mirror follows deltas and serializes each version once, layout on request', () => {
  const m = new SeatMirror(map({}));
  const bare = m.snapshotFrame(false);
  assert.equal(m.snapshotFrame(false), bare, 'the same Buffer until the version moves');
  assert.equal(JSON.parse(bare.toString()).rows, undefined);
  m.apply({
    showId: 's',
    fromVersion: 3,
    version: 5,
    layoutVersion: 1,
    showStatus: 'scheduled',
    resync: false,
    changes: [
      ['main:A-101', 'available'],
      ['pit:B-1', 'blocked'],
    ],
  });
  const next = JSON.parse(m.snapshotFrame(false).toString());
  assert.equal(next.version, 5);
  assert.equal(next.seats, 'ahx');
});

test('the mirror finds delta seats by label, derived from regular rows or listed, and ignores near misses', () => {
  const delta = (changes: Array<[string, 'available' | 'held' | 'booked' | 'blocked']>) =>
    ({ showId: 's', fromVersion: 3, version: 4, layoutVersion: 1, showStatus: 'scheduled', resync: false, changes }) as const;
  const misses: Array<[string, 'blocked']> = [
    'main:A-0101',
    'main:A-101.0',
    ' main:A-101',
    'main:A-103',
    'A-101',
    'pit:B-01',
    'pit:B-',
  ].map((l) => [l, 'blocked']);
  const regular = new SeatMirror(map({ seats: 'aaa' }));
  regular.apply(delta([...misses, ['main:A-102', 'held'], ['pit:B-1', 'booked']]));
  assert.equal(JSON.parse(regular.snapshotFrame(false).toString()).seats, 'ahb');
  const odd = new SeatMirror(map({ labels: ['main:A-1', 'main:A-3', 'pit:B-1'], seats: 'aaa' }));
  odd.apply(delta([...misses, ['main:A-2', 'blocked'], ['main:A-3', 'held'], ['pit:B-1', 'booked']]));
  assert.equal(JSON.parse(odd.snapshotFrame(false).toString()).seats, 'ahb');
});

test('a 100,000-seat snapshot stays compact', () => {
  const n = 100_000;
  const rows = Array.from({ length: 200 }, (_, r) => ({ section: 'main', label: `R${r}`, start: r * 500, count: 500 }));
  const labels = rows.flatMap((r) => Array.from({ length: r.count }, (_, k) => `R${r.label.slice(1)}-${k + 1}`));
  const frame = new SeatMirror(map({ labels, categoryOf: new Array(n).fill(0), seats: 'a'.repeat(n), rows })).snapshotFrame(true);
  assert.ok(frame.length < 120_000, `${frame.length} bytes`);
});

test('the ring keeps the newest deltas within its bounds', () => {
  const ring = new DeltaRing(3, 1_000);
  for (let v = 1; v <= 5; v++) ring.push({ fromVersion: v - 1, version: v, frame: Buffer.alloc(100) });
  assert.equal(ring.oldestFrom, 2);
  assert.deepEqual(
    ring.since(3).map((d) => d.version),
    [4, 5],
  );
  ring.push({ fromVersion: 5, version: 6, frame: Buffer.alloc(950) });
  assert.equal(ring.oldestFrom, 5, 'byte bound drops the older frames');
});

test('the tick stretches when broadcasting eats the CPU, and comes back', () => {
  let now = 0;
  const g = new TickGovernor(50, 400, 1_000, () => now);
  now = 1_000;
  g.record(800);
  assert.equal(g.tickMs, 100);
  now = 2_000;
  g.record(700);
  assert.equal(g.tickMs, 200);
  now = 3_000;
  g.record(100);
  assert.equal(g.tickMs, 100);
  now = 4_000;
  g.record(400);
  assert.equal(g.tickMs, 100, 'between the thresholds it holds');
});
