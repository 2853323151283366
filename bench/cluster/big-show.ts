/**
 * Stadium reads through a cluster gateway: a 3-worker cluster (real processes, Postgres,
 * JetStream, Redis; test/support/cluster.ts), one 100,000-seat show (and a 200,000-seat
 * one), then reads one after another through the gateway's HTTP: the compact map
 * (`?format=compact`) and the full view. Each read crosses the hop in the compact wire
 * form, in parts over NATS's max_payload, and is expanded at the gateway. Wall time per
 * read, measured at the client (body fully received and parsed); the first read of each
 * show is a warm-up (it builds the gateway's layout index). Target: the 100,000-seat
 * compact read in ≤ 1 s (median).
 *
 *   npm run bench:cluster:big-show -- [--reads 7] [--seats 100000,200000] [--out bench/results/cluster-big-show.json]
 */
import { startCluster } from '../../test/support/cluster.ts';
import { intArg, listArg, parseCli } from '../lib/args.ts';
import { writeResults } from '../lib/results.ts';
import { benchShowInput } from '../lib/show.ts';
import { formatNumber, renderTable } from '../lib/table.ts';

const args = parseCli({ reads: { type: 'string' }, seats: { type: 'string' }, out: { type: 'string' } });
const READS = intArg(args.reads, 'reads', 7, 1);
const SIZES = listArg(args.seats, 'seats', ['100000', '200000']).map(Number);
const PER_ROW = 1_000;
const TARGET_COMPACT_100K_MS = 1_000;

interface Row {
  seats: number;
  form: 'compact' | 'full';
  bytes: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const started = Date.now();
const cluster = await startCluster({
  workers: 3,
  gateways: 1,
  // A stadium's create blocks its worker for longer than the 800 ms member TTL on a busy
  // box (the ring then moves the show mid-create); this bench measures reads, so the TTL is roomier.
  env: { RATE_LIMIT_HOLDS_PER_MINUTE: '0', HEARTBEAT_INTERVAL_MS: '500', MEMBER_TTL_MS: '5000' },
});
const rows: Row[] = [];
/** gatewayRetries: routed ops the gateway had to send again so far (a worker busy past its heartbeat TTL drops out of the ring). */
const creates: Array<{ seats: number; ms: number; gatewayRetries: Record<string, number> }> = [];
try {
  for (const seats of SIZES) {
    const id = `stadium-${seats}`;
    let t = performance.now();
    const created = await cluster.request('POST', '/v1/shows', benchShowInput(id, seats / PER_ROW, PER_ROW), { admin: true });
    if (created.status !== 201) throw new Error(`create ${id}: ${created.status} ${JSON.stringify(created.body).slice(0, 200)}`);
    const ms = performance.now() - t;
    const gatewayRetries: Record<string, number> = {};
    for (const reason of ['NOT_OWNER', 'UNAVAILABLE', 'DEADLINE_EXCEEDED'])
      gatewayRetries[reason] = await cluster.metric(cluster.gateways[0], 'seat_cluster_route_retries_total', { reason });
    creates.push({ seats, ms, gatewayRetries });
    // A few seats held and booked, so the map is not all one status.
    const h = await cluster.request('POST', `/v1/shows/${id}/holds`, { seats: ['R10-1', 'R10-2'] });
    await cluster.request('POST', `/v1/shows/${id}/holds/${h.body.holdId}/confirm`, {}, { headers: { 'hold-token': h.body.holdToken } });
    for (const form of ['compact', 'full'] as const) {
      const path = `/v1/shows/${id}${form === 'compact' ? '?format=compact' : ''}`;
      const g = cluster.gateways[0];
      let bytes = 0;
      const samples: number[] = [];
      for (let i = 0; i <= READS; i++) {
        t = performance.now();
        const r = await fetch(`${g.url}${path}`);
        const text = await r.text();
        const body = JSON.parse(text) as { seats: unknown[] | string };
        const ms = performance.now() - t;
        if (r.status !== 200 || body.seats.length !== seats) throw new Error(`${path}: ${r.status}`);
        bytes = Buffer.byteLength(text);
        if (i > 0) samples.push(ms); // the first read is the warm-up
      }
      rows.push({ seats, form, bytes, medianMs: median(samples), minMs: Math.min(...samples), maxMs: Math.max(...samples), samplesMs: samples });
      process.stdout.write(`  ${seats} seats, ${form}: median ${formatNumber(median(samples))} ms\n`);
    }
  }
} finally {
  await cluster.stop();
}

console.log(`\nStadium reads through a 3-worker cluster's gateway (HTTP, one at a time, ${READS} reads after a warm-up)`);
console.log(
  renderTable(
    ['seats', 'form', 'body MB', 'median ms', 'min ms', 'max ms'],
    rows.map((r) => [formatNumber(r.seats), r.form, formatNumber(r.bytes / 1e6, 2), formatNumber(r.medianMs), formatNumber(r.minMs), formatNumber(r.maxMs)]),
  ),
);
console.log(renderTable(['seats', 'create ms (through the gateway)', 'gateway retries so far'], creates.map((c) => [formatNumber(c.seats), formatNumber(c.ms), Object.entries(c.gatewayRetries).map(([k, v]) => `${k} ${v}`).join(', ')])));
const compact100k = rows.find((r) => r.seats === 100_000 && r.form === 'compact');
if (compact100k) console.log(`100,000-seat compact read: median ${formatNumber(compact100k.medianMs)} ms (target ≤ ${TARGET_COMPACT_100K_MS} ms)`);
const path = writeResults(
  'cluster-big-show',
  {
    when: new Date().toISOString(),
    machine: { cpus: (await import('node:os')).cpus().length, loadAverage: (await import('node:os')).loadavg() },
    settings: { reads: READS, seats: SIZES, workers: 3, gateways: 1 },
    reads: rows,
    creates,
    targetCompact100kMs: TARGET_COMPACT_100K_MS,
    durationSec: (Date.now() - started) / 1000,
  },
  args.out as string | undefined,
);
console.log(`\nwrote ${path} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
process.exit(0);
