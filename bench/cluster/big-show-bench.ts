/**
 * Stadiums through a cluster gateway: a 3-worker cluster (real processes, Postgres,
 * JetStream, Redis; testkit/cluster.ts), two phases.
 *
 * - reads: one 100,000-seat show (and a 200,000-seat one), then reads one after another
 *   through the gateway's HTTP: the compact map (`?format=compact`) and the full view. Each
 *   read crosses the hop in the compact wire form, in parts over NATS's max_payload, and is
 *   expanded at the gateway. Wall time per read, measured at the client (body fully received
 *   and parsed); the first read of each show is a warm-up (it builds the gateway's layout
 *   index). Target: the 100,000-seat compact read in ≤ 1 s (median).
 * - sale: a 200,000-seat show sold to `--bookings` buyers (default 100,000, one seat each:
 *   a hold and a confirm per booking over HTTP, `--concurrency` at a time), then cancelled
 *   with `DELETE /v1/shows/{id}`: the answer must list every booking as a refund (count and
 *   sum), the seat map must read all seats available, and `show.cancelled` must arrive on the
 *   bus in pages each under max_payload. Times each step.
 *
 * Every process runs with bench/cluster/loop-delay-probe.ts preloaded: the tables give the
 * longest event-loop stall of any worker during each step (a worker stalled longer than
 * MEMBER_TTL_MS drops out of the ring, and the gateway retries its ops elsewhere).
 *
 * The command line is run-big-show.ts (`npm run bench:cluster:big-show`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listenToOutEvents, sellThroughGateway } from '../../testkit/big-show-sale.ts';
import { createClient } from '../../src/client/index.ts';
import { startCluster, type TestCluster } from '../../testkit/cluster.ts';
import type { BenchOutcome } from '../lib/cli.ts';
import { Phases } from '../lib/phases.ts';
import { writeResults } from '../lib/results.ts';
import { median } from '../../testkit/percentile.ts';
import { benchShowInput } from '../../testkit/shows.ts';
import { formatNumber, renderTable } from '../lib/table.ts';
import { readStalls, worstStall } from './loop-delay-probe.ts';

export const SALE_SEATS = 200_000;
const PER_ROW = 1_000;
const TARGET_COMPACT_100K_MS = 1_000;
export const BIG_SHOW_PHASES = ['reads', 'sale'] as const;

export interface BigShowBenchOptions {
  phases: Array<(typeof BIG_SHOW_PHASES)[number]>;
  /** Timed reads per show and form, after one warm-up read. */
  reads: number;
  /** Show sizes for the reads phase. */
  seats: number[];
  /** Buyers in the sale phase (at most SALE_SEATS / seatsPerBooking). */
  bookings: number;
  seatsPerBooking: number;
  concurrency: number;
  memberTtlMs?: number | undefined;
  out?: string | undefined;
}

interface ReadRow {
  seats: number;
  form: 'compact' | 'full';
  bytes: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  samplesMs: number[];
}

/** One timed step; `workerStallMs`: the longest event-loop stall of any worker during it. */
interface Step {
  phase: 'reads' | 'sale';
  step: string;
  ms: number;
  workerStallMs: number;
  detail: string;
}

async function gatewayRetries(c: TestCluster): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const reason of ['NOT_OWNER', 'UNAVAILABLE', 'DEADLINE_EXCEEDED'])
    out[reason] = await c.metric(c.gateways[0], 'seat_cluster_route_retries_total', { reason });
  return out;
}

export async function run(opts: BigShowBenchOptions): Promise<BenchOutcome> {
  const {
    phases: PHASES,
    reads: READS,
    seats: SIZES,
    bookings: BOOKINGS,
    seatsPerBooking: SEATS_PER_BOOKING,
    concurrency: CONCURRENCY,
    memberTtlMs: MEMBER_TTL_MS,
  } = opts;
  if (BOOKINGS * SEATS_PER_BOOKING > SALE_SEATS) throw new Error(`--bookings × --seats-per-booking must be at most ${SALE_SEATS}`);
  const started = Date.now();
  const probeDir = await mkdtemp(join(tmpdir(), 'seats-loop-probe-'));
  const probeFile = join(probeDir, 'stalls.jsonl');
  const probe = fileURLToPath(new URL('./loop-delay-probe.ts', import.meta.url));
  const cluster = await startCluster({
    workers: 3,
    gateways: 1,
    env: {
      RATE_LIMIT_HOLDS_PER_MINUTE: '0',
      ...(MEMBER_TTL_MS !== undefined
        ? { MEMBER_TTL_MS: String(MEMBER_TTL_MS), HEARTBEAT_INTERVAL_MS: String(Math.max(50, Math.floor(MEMBER_TTL_MS / 10))) }
        : {}),
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import tsx --import ${probe}`.trim(),
      LOOP_DELAY_PROBE_FILE: probeFile,
    },
  });
  const api = createClient({ url: cluster.gateways[0].url, adminToken: cluster.adminToken });
  const workerStall = (from: number, to: number) =>
    worstStall(
      readStalls(probeFile).filter((s) => s.node.startsWith('w')),
      from,
      to,
    ).stallMs;
  const steps: Step[] = [];
  /** Times `fn` and records the step with the worst worker stall meanwhile. */
  async function step<T>(phase: Step['phase'], name: string, fn: () => Promise<T>, detail: (v: T) => string = () => ''): Promise<T> {
    const from = Date.now();
    const t = performance.now();
    const v = await fn();
    const ms = performance.now() - t;
    const s: Step = { phase, step: name, ms, workerStallMs: workerStall(from, Date.now()), detail: detail(v) };
    steps.push(s);
    process.stdout.write(
      `  ${phase} / ${name}: ${formatNumber(ms)} ms, worst worker stall ${formatNumber(s.workerStallMs)} ms ${s.detail}\n`,
    );
    return v;
  }

  const readRows: ReadRow[] = [];
  let sale: Record<string, unknown> | undefined;
  const phases = new Phases();
  try {
    if (PHASES.includes('reads')) await phases.run('reads', readsPhase);
    if (PHASES.includes('sale')) sale = (await phases.run('sale', salePhase)) ?? undefined;
  } finally {
    await cluster.stop();
    await rm(probeDir, { recursive: true, force: true });
  }

  async function readsPhase(): Promise<void> {
    for (const seats of SIZES) {
      const id = `stadium-${seats}`;
      await step('reads', `create ${formatNumber(seats)} seats`, async () => {
        await api.createShow(benchShowInput(id, seats / PER_ROW, PER_ROW));
      });
      // A few seats held and booked, so the map is not all one status.
      const h = await api.hold(id, { seats: ['R10-1', 'R10-2'] });
      await api.confirm(id, h.holdId, h.holdToken);
      for (const form of ['compact', 'full'] as const) {
        const path = `/v1/shows/${id}${form === 'compact' ? '?format=compact' : ''}`;
        const g = cluster.gateways[0];
        let bytes = 0;
        const samples: number[] = [];
        for (let i = 0; i <= READS; i++) {
          const t = performance.now();
          // Raw fetch: the compact form is not in the typed client, and the body's bytes are measured.
          const r = await fetch(`${g.url}${path}`);
          const text = await r.text();
          const body = JSON.parse(text) as { seats: unknown[] | string };
          const ms = performance.now() - t;
          if (r.status !== 200 || body.seats.length !== seats) throw new Error(`${path}: ${r.status}`);
          bytes = Buffer.byteLength(text);
          if (i > 0) samples.push(ms); // the first read is the warm-up
        }
        readRows.push({
          seats,
          form,
          bytes,
          medianMs: median(samples),
          minMs: Math.min(...samples),
          maxMs: Math.max(...samples),
          samplesMs: samples,
        });
        process.stdout.write(`  ${seats} seats, ${form}: median ${formatNumber(median(samples))} ms\n`);
      }
    }
  }

  async function salePhase(): Promise<Record<string, unknown>> {
    const id = 'stadium-sale';
    const input = benchShowInput(id, SALE_SEATS / PER_ROW, PER_ROW);
    await step('sale', `create ${formatNumber(SALE_SEATS)} seats`, async () => {
      await api.createShow({ ...input, limits: { maxSeatsPerHold: Math.max(10, SEATS_PER_BOOKING) } });
    });
    const listener = await listenToOutEvents(cluster);
    try {
      const seatLabel = (i: number) => `R${Math.floor(i / PER_ROW)}-${(i % PER_ROW) + 1}`;
      const sold = await step(
        'sale',
        `sell ${formatNumber(BOOKINGS)} bookings × ${SEATS_PER_BOOKING}`,
        () =>
          sellThroughGateway(cluster, id, {
            bookings: BOOKINGS,
            seatsPerBooking: SEATS_PER_BOOKING,
            seatLabel,
            concurrency: CONCURRENCY,
            onProgress: (n) => n % 10_000 === 0 && process.stdout.write(`    ${n} booked\n`),
          }),
        (s) => `(${formatNumber(s.bookings.size / 1)} bookings)`,
      );
      const cancelled = await step('sale', 'cancel (DELETE, answered)', async () => {
        const r = await api.cancelShow(id);
        return { ...r, refunds: r.refunds.map((b) => ({ bookingId: b.bookingId, refundDue: b.refundDue ?? b.total })) };
      });
      const refundSum = cancelled.refunds.reduce((sum, b) => sum + b.refundDue, 0);
      const refundIds = new Set(cancelled.refunds.map((b) => b.bookingId));
      const everyRefund =
        refundIds.size === sold.bookings.size && [...sold.bookings.keys()].every((b) => refundIds.has(b)) && refundSum === sold.total;
      if (!everyRefund)
        throw new Error(`cancel answered ${refundIds.size} refunds summing ${refundSum}; sold ${sold.bookings.size} for ${sold.total}`);
      const pagesOf = (ms: typeof listener.messages) => ms.filter((m) => m.event.type === 'ShowCancelled' && m.event.showId === id);
      await step('sale', 'show.cancelled pages heard', () =>
        listener.until(
          (ms) => {
            const pages = pagesOf(ms);
            return pages.length > 0 && pages.length === (pages[0].event as { pages: number }).pages;
          },
          60_000,
          'every show.cancelled page',
        ),
      );
      const pages = pagesOf(listener.messages);
      const pageRefunds = pages.reduce((n, m) => n + (m.event as { refunds: unknown[] }).refunds.length, 0);
      const pageTotal = pages.reduce((n, m) => n + (m.event as { refundTotal: number }).refundTotal, 0);
      if (pageRefunds !== sold.bookings.size || pageTotal !== sold.total)
        throw new Error(`show.cancelled pages carry ${pageRefunds} refunds summing ${pageTotal}`);
      // The compact form (one status character per seat) is not in the typed client.
      const after = await step(
        'sale',
        'compact read after cancel',
        async () => (await cluster.request('GET', `/v1/shows/${id}?format=compact`)).body as { status: string; seats: string },
      );
      if (after.status !== 'cancelled' || /[^a]/.test(after.seats))
        throw new Error(`after the cancel the show is ${after.status} with seats not all available`);
      return {
        show: { id, seats: SALE_SEATS },
        bookings: sold.bookings.size,
        seatsSold: sold.seats,
        soldTotal: sold.total,
        refunds: cancelled.refunds.length,
        refundSum,
        showCancelledPages: pages.length,
        largestPageBytes: Math.max(...pages.map((m) => m.bytes)),
        maxPayload: listener.maxPayload,
        gatewayRetries: await gatewayRetries(cluster),
      };
    } finally {
      await listener.close();
    }
  }

  if (readRows.length) {
    console.log(`\nStadium reads through a 3-worker cluster's gateway (HTTP, one at a time, ${READS} reads after a warm-up)`);
    console.log(
      renderTable(
        ['seats', 'form', 'body MB', 'median ms', 'min ms', 'max ms'],
        readRows.map((r) => [
          formatNumber(r.seats),
          r.form,
          formatNumber(r.bytes / 1e6, 2),
          formatNumber(r.medianMs),
          formatNumber(r.minMs),
          formatNumber(r.maxMs),
        ]),
      ),
    );
    const compact100k = readRows.find((r) => r.seats === 100_000 && r.form === 'compact');
    if (compact100k)
      console.log(`100,000-seat compact read: median ${formatNumber(compact100k.medianMs)} ms (target ≤ ${TARGET_COMPACT_100K_MS} ms)`);
  }
  console.log(
    `\nSteps through the gateway (sell + cancel: ${formatNumber(BOOKINGS)} bookings of ${SEATS_PER_BOOKING} seat(s), ${CONCURRENCY} buyers at once)`,
  );
  console.log(
    renderTable(
      ['phase', 'step', 'ms', 'worst worker stall ms', ''],
      steps.map((s) => [s.phase, s.step, formatNumber(s.ms), formatNumber(s.workerStallMs), s.detail]),
    ),
  );
  if (sale) console.log(`sale: ${JSON.stringify(sale)}`);
  const path = writeResults(
    'cluster-big-show',
    {
      when: new Date().toISOString(),
      machine: { cpus: cpus().length, loadAverage: loadavg() },
      settings: {
        phases: PHASES,
        reads: READS,
        seats: SIZES,
        workers: 3,
        gateways: 1,
        bookings: BOOKINGS,
        seatsPerBooking: SEATS_PER_BOOKING,
        concurrency: CONCURRENCY,
        memberTtlMs: MEMBER_TTL_MS ?? 'default',
      },
      reads: readRows,
      steps,
      sale,
      targetCompact100kMs: TARGET_COMPACT_100K_MS,
      failedPhases: phases.failed,
      durationSec: (Date.now() - started) / 1000,
    },
    opts.out,
  );
  console.log(`\nwrote ${path} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return { failed: phases.failed };
}
