import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startHealthServer } from '../../src/cluster/health-server.ts';

describe("a worker's health port", () => {
  it('guards /metrics with METRICS_TOKEN like a gateway, and marks every answer nosniff', async () => {
    const token = 'm'.repeat(24);
    const health = await startHealthServer({ host: '127.0.0.1', port: 0, ready: () => true, metricsToken: token });
    try {
      const none = await fetch(`${health.url}/metrics`);
      assert.equal(none.status, 401);
      assert.equal((await none.json()).error.code, 'UNAUTHENTICATED');
      const wrong = await fetch(`${health.url}/metrics`, { headers: { authorization: 'Bearer nope' } });
      assert.equal(wrong.status, 403);
      await wrong.body?.cancel();
      const right = await fetch(`${health.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(right.status, 200);
      assert.match(await right.text(), /process_cpu_user_seconds_total|nodejs_/);
      assert.equal(right.headers.get('x-content-type-options'), 'nosniff');
      const healthz = await fetch(`${health.url}/healthz`);
      assert.equal(healthz.status, 200);
      assert.equal(healthz.headers.get('x-content-type-options'), 'nosniff');
    } finally {
      await health.close();
    }
  });

  it('serves /metrics openly when no token is set', async () => {
    const health = await startHealthServer({ host: '127.0.0.1', port: 0, ready: () => true });
    try {
      const res = await fetch(`${health.url}/metrics`);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    } finally {
      await health.close();
    }
  });
});
