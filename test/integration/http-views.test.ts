import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { showBody, startTestServer, type TestServer } from '../support/start-server.ts';

/** A raw GET: the bytes as they came over the wire and the headers that describe them. */
function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('http: show views', () => {
  let srv: TestServer;
  // 40 rows of 50: a full view of ~140 KB, above the size that is worth compressing.
  before(async () => {
    srv = await startTestServer();
    const res = await srv.request('POST', '/v1/shows', { admin: true, body: showBody('v1', {}, 40, 50) });
    assert.equal(res.status, 201);
  });
  after(() => srv.stop());

  it('serves one serialization to every reader of a version, gzipped once when asked', async () => {
    const views = srv.service.views;
    const before = views.stats();
    const plain = await Promise.all([1, 2, 3].map(() => get(`${srv.url}/v1/shows/v1`)));
    const zipped = await Promise.all([1, 2].map(() => get(`${srv.url}/v1/shows/v1`, { 'accept-encoding': 'gzip, deflate' })));
    assert.equal(views.stats().built - before.built, 1, 'five reads of one version, one build');
    for (const p of plain) {
      assert.equal(p.status, 200);
      assert.equal(p.headers['content-encoding'], undefined);
      assert.equal(Number(p.headers['content-length']), p.bytes.length);
      assert.deepEqual(p.bytes, plain[0].bytes);
    }
    for (const z of zipped) {
      assert.equal(z.headers['content-encoding'], 'gzip');
      assert.ok(z.bytes.length * 5 < plain[0].bytes.length, 'compressed');
      assert.deepEqual(gunzipSync(z.bytes), plain[0].bytes);
    }
    const view = await srv.service.readView!('v1', 'full');
    assert.equal(await view.gzipped(), await view.gzipped(), 'compressed once, shared');
    const refused = await get(`${srv.url}/v1/shows/v1`, { 'accept-encoding': 'gzip;q=0, identity' });
    assert.equal(refused.headers['content-encoding'], undefined);
  });

  it('a read after a commit sees the new version, in both forms', async () => {
    const first = JSON.parse((await get(`${srv.url}/v1/shows/v1`)).bytes.toString());
    const firstCompact = JSON.parse((await get(`${srv.url}/v1/shows/v1?format=compact`)).bytes.toString());
    const hold = await srv.request('POST', '/v1/shows/v1/holds', { body: { seats: ['A-7'] } });
    assert.equal(hold.status, 201);
    const next = JSON.parse((await get(`${srv.url}/v1/shows/v1`)).bytes.toString());
    const nextCompact = JSON.parse((await get(`${srv.url}/v1/shows/v1?format=compact`)).bytes.toString());
    assert.ok(next.version > first.version);
    assert.equal(next.seats[6].status, 'held');
    assert.equal(next.counts.held, first.counts.held + 1);
    assert.equal(nextCompact.version, next.version);
    assert.ok(nextCompact.version > firstCompact.version);
    assert.equal(nextCompact.seats[6], 'h');
  });
});
