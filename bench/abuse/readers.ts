// The reading half of the abuse bench, run as its own process so its CPU (draining
// megabytes per read) does not sit on the event loop that times /healthz.
//
//   node --import tsx bench/abuse/readers.ts <url> <clients> <durationMs> [gzip]
// Prints one JSON line: reads, bytes (on the wire and decoded), per-read latency quantiles,
// versions seen. With `gzip` the readers send Accept-Encoding: gzip, as browsers do, and
// decode what they get.
import { Agent, request } from 'node:http';
import { createGunzip } from 'node:zlib';
import { Histogram } from '../../testkit/histogram.ts';

const [url, clientsArg, durationArg, encoding] = process.argv.slice(2);
const gzip = encoding === 'gzip';
const clients = Number(clientsArg);
const durationMs = Number(durationArg);
const agent = new Agent({ keepAlive: true, maxSockets: clients });

/** One GET, draining the body without parsing it; resolves with its byte count and the `version` near its start. */
function readOnce(): Promise<{ bytes: number; wire: number; version: number | null; status: number }> {
  return new Promise((resolve, reject) => {
    // Raw HTTP: gzip or not, and the bytes on the wire, are what this measures.
    const req = request(url, { agent, headers: gzip ? { 'accept-encoding': 'gzip' } : {} }, (res) => {
      let bytes = 0;
      let wire = 0;
      let head = '';
      res.on('data', (chunk: Buffer) => (wire += chunk.length));
      const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
      body.on('data', (chunk: Buffer) => {
        if (head.length < 65536) head += chunk.subarray(0, 65536).toString('latin1');
        bytes += chunk.length;
      });
      body.on('end', () => {
        const m = /"version":(\d+)/.exec(head);
        resolve({ bytes, wire, version: m ? Number(m[1]) : null, status: res.statusCode ?? 0 });
      });
      body.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const latency = new Histogram();
let reads = 0;
let bytes = 0;
let wire = 0;
let errors = 0;
const versions = new Set<number>();
const endAt = Date.now() + durationMs;
const started = performance.now();
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (Date.now() < endAt) {
      const t = performance.now();
      try {
        const r = await readOnce();
        if (r.status !== 200) errors++;
        else {
          reads++;
          bytes += r.bytes;
          wire += r.wire;
          if (r.version !== null) versions.add(r.version);
        }
      } catch {
        errors++;
      }
      latency.recordMs(performance.now() - t);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
agent.destroy();
process.stdout.write(
  `${JSON.stringify({
    reads,
    errors,
    bytes,
    seconds,
    readsPerSec: reads / seconds,
    mbPerSec: bytes / seconds / 1e6,
    wireMbPerSec: wire / seconds / 1e6,
    wireBodyBytes: reads ? Math.round(wire / reads) : 0,
    bodyBytes: reads ? Math.round(bytes / reads) : 0,
    readP50Ms: latency.quantileMs(0.5),
    readP99Ms: latency.quantileMs(0.99),
    versionsSeen: versions.size,
  })}\n`,
);
