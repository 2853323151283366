import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { startCluster, until, type TestCluster } from '../../testkit/cluster.ts';
import { needServices } from '../../testkit/services.ts';

interface Spawned {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<number | NodeJS.Signals | null>;
}

/** A worker process of the cluster with a NODE_ID of the test's choosing. */
function spawnWorker(cluster: TestCluster, nodeId: string): Spawned {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      ...cluster.env,
      ROLE: 'worker',
      NODE_ID: nodeId,
      PORT: '0',
      HOST: '127.0.0.1',
      DEMO_SHOW: '0',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => lines.push(l));
  createInterface({ input: proc.stderr! }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)));
  return { proc, lines, exited };
}

/**
 * Operator mistakes refused at the door: a second process started with the NODE_ID of a live
 * worker exits non-zero naming the id, before it subscribes to anything; the same id starts
 * again normally once its previous process is gone (its claim expired).
 */
describe('NODE_ID claim', { skip: await needServices('postgres', 'nats', 'redis') }, () => {
  let cluster: TestCluster;
  const spawned: Spawned[] = [];
  before(async () => {
    cluster = await startCluster({ workers: 1, gateways: 0 });
  });
  after(async () => {
    for (const s of spawned) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
    await cluster?.stop();
  });

  it('refuses a second live process with the same NODE_ID and lets a restart after a crash claim it', async () => {
    const live = cluster.workers[0];
    const dup = spawnWorker(cluster, live.nodeId);
    spawned.push(dup);
    const code = await dup.exited;
    assert.notEqual(code, 0, 'the duplicate exits non-zero');
    assert.ok(
      dup.lines.some((l) => l.includes(`NODE_ID ${live.nodeId} is already in use`)),
      `the duplicate names the id:\n${dup.lines.slice(-10).join('\n')}`,
    );
    assert.equal(live.alive, true, 'the live worker is untouched');
    assert.equal((await fetch(`${live.url}/readyz`)).ok, true);

    // A crash (no graceful release): the restarted process waits out the old claim and starts.
    await cluster.killWorker(0, 'SIGKILL');
    const restarted = spawnWorker(cluster, live.nodeId);
    spawned.push(restarted);
    const url = await until(
      () => {
        if (restarted.proc.exitCode !== null) throw new Error(`restart exited:\n${restarted.lines.slice(-10).join('\n')}`);
        for (const l of restarted.lines) {
          try {
            const e = JSON.parse(l) as { msg?: string; url?: string };
            if (e.msg === 'listening' && e.url) return e.url;
          } catch {
            // not a log line
          }
        }
        return false;
      },
      30_000,
      'the restarted worker to listen',
    );
    await until(async () => (await fetch(`${url}/readyz`)).ok, 15_000, 'the restarted worker to be ready');
    restarted.proc.kill('SIGTERM');
    assert.equal(await restarted.exited, 0);
  });
});
