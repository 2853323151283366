import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { spawnServer } from '../../testkit/spawn-server.ts';

const run = promisify(execFile);

/**
 * `npm run build` compiles to dist/ and `node dist/main.js` (what `npm run start:prod` and the
 * image run) serves the same API as `npm start`: no tsx, the page and migrations copied.
 */
describe('the production build', () => {
  it('compiles, starts from dist/, serves the page and sells a seat', async () => {
    await run('npm', ['run', 'build'], { cwd: process.cwd(), timeout: 300_000 });
    const dataDir = await mkdtemp(join(tmpdir(), 'seats-build-'));
    const server = await spawnServer({ DATA_DIR: dataDir, DEMO_SHOW: '1', ADMIN_TOKEN: 'build-test-admin-token-0123' }, () => {}, [
      'dist/main.js',
    ]);
    try {
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      const page = await fetch(`${server.url}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
      const hold = await fetch(`${server.url}/v1/shows/demo/holds`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ count: 2 }),
      });
      assert.equal(hold.status, 201);
      const { holdId, holdToken } = await hold.json();
      const booked = await fetch(`${server.url}/v1/shows/demo/holds/${holdId}/confirm`, {
        method: 'POST',
        headers: { 'hold-token': holdToken },
      });
      assert.equal(booked.status, 201);
      assert.equal((await booked.json()).status, 'confirmed');
    } finally {
      await server.kill('SIGTERM');
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
