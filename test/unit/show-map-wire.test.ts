import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { showView } from '../../src/actors/views.ts';
import { buildSeatMap, seatLabels } from '../../src/actors/seat-map.ts';
import { LayoutCache, expandSeatMap, expandView, layoutIndex, mapWireOf, viewToMapWire } from '../../src/cluster/show-map-wire.ts';
import { logger } from '../../src/logger.ts';
import { createSeatNode } from '../../src/node.ts';
import { openMemoryStorage } from '../../src/persistence/index.ts';
import { showInput } from '../../testkit/shows.ts';

describe('the compact map on the hop', () => {
  test("expanded at the edge, it equals the owner's full view and seat map, through holds, bookings, blocks, a layout change and a cancellation", async () => {
    const node = createSeatNode(
      { holdTokenSecret: 'map-wire-test-secret-0123456789', snapshotEveryEvents: 100_000, snapshotEveryMs: 3_600_000 },
      openMemoryStorage(logger),
      logger,
    );
    try {
      const s = node.service;
      const input = showInput('mw', 3, 10, {
        categories: [
          { id: 'gold', price: 50000, currency: 'INR' },
          { id: 'silver', price: 30000, currency: 'INR' },
        ],
      });
      input.layout.sections.push({ id: 'balcony', rows: [{ label: 'Z', seats: 5, category: 'silver', firstNumber: 7 }] });
      await s.createShow(input);
      const cache = new LayoutCache();
      const check = async () => {
        const [wire, view, map] = await Promise.all([node.host.read('mw', mapWireOf), s.getShow('mw'), s.getSeatMap('mw')]);
        const index = cache.indexOf(wire.head);
        assert.deepEqual(expandView(wire, index), view);
        assert.deepEqual(expandSeatMap(wire, index), map);
        assert.deepEqual(viewToMapWire(view), wire);
        assert.equal(JSON.stringify(expandView(wire, index)), JSON.stringify(view), 'same JSON, same key order');
      };
      await check();
      const h = await s.hold('mw', { seats: ['main:A-1', 'main:A-2'] });
      await s.hold('mw', { seats: ['balcony:Z-8'] });
      await s.confirm('mw', h.holdId, h.holdToken, {});
      await s.blockSeats('mw', ['main:C-10']);
      await check();
      await s.changeShow('mw', {
        categories: [
          { id: 'gold', price: 55000, currency: 'INR' },
          { id: 'silver', price: 30000, currency: 'INR' },
        ],
      });
      await check();
      await s.changeShow('mw', { layout: { sections: [{ id: 'main', rows: [{ label: 'A', seats: 12, category: 'gold' }] }] } });
      await check();
      // Created with two sections, the show keeps `main:` when one is left: the booking keeps its seats.
      const one = await s.getShow('mw');
      assert.deepEqual(
        [one.seats[0], one.seats[1].status, one.layout.unqualifiedSection],
        [{ id: 'main:A-1', category: 'gold', price: 55000, status: 'booked' }, 'booked', null],
      );
      await s.cancelShow('mw', 'storm');
      await check();
      const state = await node.host.read('mw', (st) => st);
      assert.equal(expandView(mapWireOf(state), cache.indexOf(mapWireOf(state).head)).seats.length, showView(state).seats.length);
    } finally {
      await node.close();
    }
  });

  test("the gateway's layout index has the labels, categories and rows of the owner's seat map", () => {
    const input = showInput('li', 3, 4, {
      categories: [
        { id: 'gold', price: 1, currency: 'INR' },
        { id: 'silver', price: 1, currency: 'INR' },
      ],
    });
    input.layout.sections.push({ id: 'b', rows: [{ label: 'Z', seats: 3, category: 'silver', firstNumber: 0 }] });
    const owner = buildSeatMap(input.layout, input.categories);
    const index = layoutIndex(input.layout, input.categories);
    assert.deepEqual(index.map, owner);
    assert.deepEqual(index.labels, seatLabels(owner));
    assert.deepEqual(index.categoryOf, Array.from(owner.categoryOf));
  });

  test('the layout cache is bounded by seats, least recently used out first', () => {
    const cache = new LayoutCache(250);
    const head = (id: string) => {
      const { layout, categories } = showInput(id, 10, 10);
      return { id, layout, categories, layoutVersion: 1 } as Parameters<LayoutCache['indexOf']>[0];
    };
    const a = cache.indexOf(head('a'));
    cache.indexOf(head('b'));
    assert.equal(cache.indexOf(head('a')), a, 'a hit returns the same index');
    cache.indexOf(head('c'));
    assert.equal(cache.size, 2);
    assert.equal(cache.indexOf(head('a')), a, 'a was used last, b went');
  });
});
