import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openDurableStorage } from '../../src/persistence/durable-storage.ts';
import { openEmbeddedStorage } from '../../src/persistence/embedded.ts';
import type { Storage } from '../../src/persistence/index.ts';
import { tempDir } from '../persistence/temp-dir.ts';
import { needServices } from '../../testkit/services.ts';
import { durableTestEnv, showInput, testLogger } from './support.ts';

const skip = await needServices('postgres', 'nats');
const SECRET = 'idempotency-test-secret-0123456789';
const SHOW = 'keys';
/** More keyed holds after the first than the show once remembered keys (1,024). */
const LATER_HOLDS = 1_500;

function node(storage: Storage): SeatNode {
  return createSeatNode({ holdTokenSecret: SECRET, snapshotEveryEvents: 200, snapshotEveryMs: 600_000 }, storage, testLogger);
}

/**
 * A first keyed hold, 1,500 later keyed holds (each released, so the seats go round), a
 * restart (nothing of the process is left, the gateway cache included), then the first
 * request again: the same key and body get the first answer, another body is refused.
 */
async function retryAfterRestart(open: () => Promise<Storage>): Promise<void> {
  let n = node(await open());
  await n.service.createShow(showInput(SHOW, 4, 25));
  const first = await n.service.hold(SHOW, { seats: ['A-1', 'A-2'] }, { idempotencyKey: 'first' });
  for (let i = 0; i < LATER_HOLDS; i++) {
    const h = await n.service.hold(SHOW, { seats: [`D-${1 + (i % 25)}`] }, { idempotencyKey: `later-${i}` });
    await n.service.release(SHOW, h.holdId, h.holdToken);
  }
  const versionBefore = (await n.service.getShow(SHOW)).version;
  await n.close();

  n = node(await open());
  try {
    const again = await n.service.hold(SHOW, { seats: ['A-1', 'A-2'] }, { idempotencyKey: 'first' });
    assert.equal(again.holdId, first.holdId);
    assert.equal(again.holdToken, first.holdToken);
    assert.deepEqual(again.seats, first.seats);
    assert.equal(again.expiresAt, first.expiresAt);
    assert.deepEqual(again.price, first.price);
    await assert.rejects(n.service.hold(SHOW, { seats: ['A-3'] }, { idempotencyKey: 'first' }), { code: 'IDEMPOTENCY_MISMATCH' });
    const after = await n.service.getShow(SHOW);
    assert.equal(after.version, versionBefore, 'a retry changes nothing');
    assert.equal(after.seats.find((s) => s.id === 'A-3')?.status, 'available');
  } finally {
    await n.close();
  }
}

describe('idempotency keys survive many later keys and a restart', () => {
  it('embedded storage', async () => {
    const dir = await tempDir('seats-idem-');
    try {
      await retryAfterRestart(() => openEmbeddedStorage(dir.path, testLogger));
    } finally {
      await dir.remove();
    }
  });

  it('JetStream + Postgres', { skip }, async () => {
    const env = await durableTestEnv('idem');
    try {
      await retryAfterRestart(() => openDurableStorage(env.config, testLogger, env.options));
    } finally {
      await env.cleanup();
    }
  });
});
