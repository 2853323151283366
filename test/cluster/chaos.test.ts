import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ALL_FAULTS } from '../../testkit/chaos/faults/index.ts';
import { runChaos } from '../../testkit/chaos/suite.ts';

/** The suite needs the server binaries (it starts private servers, never the shared ones). */
function missingBinaries(): string | false {
  const missing = ['nats-server', 'redis-server'].filter((b) => spawnSync('which', [b]).status !== 0);
  const pg =
    existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
  if (!pg) missing.push('initdb');
  if (missing.length === 0) return false;
  const reason = `binaries missing: ${missing.join(', ')}`;
  if (process.env.REQUIRE_SERVICES === '1') throw new Error(`${reason} (REQUIRE_SERVICES=1)`);
  return reason;
}

/**
 * The short fault suite: two faults (Redis killed; a worker SIGSTOPped long enough to lose its
 * shows, then resumed into a fenced log) against private servers, with the safety promises asserted after each — nothing acknowledged lost,
 * no seat sold twice, the map equal to the log, counts adding up. Timing is `npm run chaos`'s job.
 */
describe('chaos, short', { skip: missingBinaries() }, () => {
  it('keeps every promise through a Redis kill and a paused worker', async () => {
    const faults = ALL_FAULTS.filter((f) => f.name === 'redis-kill' || f.name === 'worker-sigstop');
    const result = await runChaos({ faults, customers: 6, shows: 3, baselineMs: 1_000, settleMs: 2_000, probes: 0, holdMs: 2_000 });
    assert.equal(result.faults.length, 2);
    for (const f of result.faults) {
      assert.equal(f.error, undefined, `${f.fault}: ${f.error}`);
      assert.ok(f.acked > 0, `${f.fault}: some bookings were acknowledged`);
      assert.deepEqual(f.invariants.lost, [], `${f.fault}: acknowledged bookings lost`);
      assert.deepEqual(f.invariants.oversold, [], `${f.fault}: seats sold twice`);
      assert.deepEqual(f.invariants.mismatched, [], `${f.fault}: counts or maps disagree`);
    }
  });
});
