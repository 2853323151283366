import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openEmbeddedStorage } from '../../src/persistence/embedded.ts';
import { checkAccounting } from '../support/core.ts';
import { showBody, startTestServer } from '../support/start-server.ts';
import { silentLogger, tempDir } from '../persistence/temp-dir.ts';

const CLIENTS = 300;
const ROWS = 15;
const PER_ROW = 20;

describe('http: a show whose mailbox is full', () => {
  it('answers 503 UNAVAILABLE with Retry-After, and the show stays consistent', async () => {
    const dir = await tempDir('seats-overload-');
    // A log that syncs to disk, so commands queue while an append is in flight.
    const server = await startTestServer({
      storage: await openEmbeddedStorage(dir.path, silentLogger),
      logger: silentLogger,
      node: { mailboxMaxCommands: 4 },
    });
    try {
      assert.equal((await server.request('POST', '/v1/shows', { admin: true, body: showBody('busy', {}, ROWS, PER_ROW) })).status, 201);
      const held = new Map<string, string[]>();
      let busy = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, i) => {
          const seat = `${String.fromCharCode(65 + (i % ROWS))}-${1 + (Math.floor(i / ROWS) % PER_ROW)}`;
          const r = await server.request('POST', '/v1/shows/busy/holds', { body: { seats: [seat] } });
          if (r.status === 201) held.set(r.body.holdId, r.body.seats);
          else if (r.status === 503) {
            busy++;
            assert.equal(r.body.error.code, 'UNAVAILABLE');
            assert.ok(Number(r.headers.get('retry-after')) >= 1, 'Retry-After on a full mailbox');
          } else assert.fail(`unexpected ${r.status} ${r.text}`);
        }),
      );
      assert.ok(busy > 0, 'some holds were turned away');
      assert.ok(held.size > 0, 'the show kept selling');
      const show = await server.request('GET', '/v1/shows/busy');
      const heldSeats = new Set([...held.values()].flat());
      for (const s of show.body.seats) assert.equal(s.status, heldSeats.has(s.id) ? 'held' : 'available', s.id);
      await server.node.host.read('busy', (state) => {
        checkAccounting(state);
        assert.deepEqual(new Set(state.holds.keys()), new Set(held.keys()));
      });
    } finally {
      await server.stop();
      await dir.remove();
    }
  });
});
