/**
 * bench/jetstream-packing — what packing several shows' batches into one JetStream message
 * saves. On the durable path each show batch is one message on the show's own subject,
 * fenced by `Nats-Expected-Last-Subject-Sequence` and acknowledged through PubAckMux; on
 * many small shows a batch is one command, so each command pays a whole message and
 * acknowledgement in the client and in nats-server. Here N logical batches (~`batchBytes`
 * of JSON each) go out as N/k messages of k batches for each packing factor k:
 *
 *   k = 1: one subject per simulated show (`shows` of them), each fenced on its last seq;
 *   k > 1: one subject per simulated worker, fenced the same way, as many workers as keep
 *          `inFlight` appends outstanding (a fenced subject takes one append at a time).
 *
 * Closed loop, at most `inFlight` messages outstanding, all in this process, through the
 * product's PubAckMux, whose appendHeaders gives each message its headers (msg id, expected
 * stream, expected last subject seq).
 * Per logical batch: this process's CPU (process.cpuUsage), nats-server's CPU (/proc, every
 * process named nats-server: the shared server, so anything else it serves meanwhile counts
 * too), wall time → batches/s and messages/s, and each message's acknowledgement latency.
 * What it leaves out: unpacking on the read side, and the product's encoding of a batch
 * (the same per batch whatever k).
 *
 * The factors alternate over `rounds` interleaved rounds (k ascending, then descending, …) and
 * the table gives medians. The stream is this run's own (file storage, the product's limits:
 * src/persistence/jetstream-event-log.ts), on BENCH_NATS_URL / TEST_NATS_URL (default the
 * local server), deleted at the end, on failure too. Writes bench/results/jetstream-packing.json.
 * A round that throws is reported and fails the bench; the others still run. The command line
 * is run.ts.
 */
import { cpus, loadavg } from 'node:os';
import { connect, type NatsConnection } from 'nats';
import {
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_MAX_MSG_BYTES,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  eventStreamConfig,
} from '../../src/persistence/jetstream-event-log.ts';
import { PubAckMux } from '../../src/persistence/jetstream-pub-ack.ts';
import { median, percentile } from '../../testkit/percentile.ts';
import { loadAverageLine } from '../lib/checkout-rounds.ts';
import type { BenchOutcome } from '../lib/cli.ts';
import { Phases } from '../lib/phases.ts';
import { cpuDelta, pidsByName, snapshotCpu, ticksPerSecond } from '../lib/proc-cpu.ts';
import { resultPath, writeJson } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';
import { batchesOfMessage, batchJson, messageBody, planPacking, type PackingPlan } from './packing-plan.ts';

export interface JetStreamPackingBenchOptions {
  /** Packing factors: logical batches per message. */
  packing: number[];
  /** Logical batches published per factor and round. */
  batches: number;
  /** Bytes of JSON per logical batch. */
  batchBytes: number;
  /** Simulated shows (the subjects of k = 1; the show ids inside packed messages). */
  shows: number;
  /** Messages outstanding at most. */
  inFlight: number;
  rounds: number;
  /** Results file (default bench/results/jetstream-packing.json). */
  out?: string | undefined;
}

const NATS_URL = process.env.BENCH_NATS_URL ?? process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
/** Batches of the unrecorded warm-up pass per factor (JIT, the server's first subjects). */
const WARMUP_BATCHES = 2_000;

interface RoundResult {
  k: number;
  round: number;
  messages: number;
  subjects: number;
  inFlight: number;
  seconds: number;
  messagesPerSec: number;
  batchesPerSec: number;
  clientUsPerBatch: number;
  natsServerUsPerBatch: number;
  totalUsPerBatch: number;
  ackP50Ms: number;
  ackP99Ms: number;
}

/** One fenced subject: its last acknowledged seq, and the append now on it. */
interface Lane {
  subject: string;
  lastSeq: number;
  tail: Promise<void>;
}

/** Publishes `batches` logical batches at factor `k` under `prefix`; answers the plan and each message's ack latency (ms). */
async function publishAll(
  acks: PubAckMux,
  stream: string,
  prefix: string,
  plan: PackingPlan,
  opts: JetStreamPackingBenchOptions,
  batches: number,
): Promise<number[]> {
  const { k } = plan;
  const lanes: Lane[] = Array.from({ length: plan.subjects }, (_, i) => ({
    subject: `${prefix}.${k === 1 ? 'show' : 'worker'}${i}`,
    lastSeq: 0,
    tail: Promise.resolve(),
  }));
  // The batches' own bytes exist whatever k (the product encodes each batch anyway): made
  // before the clock starts. Packing them into a message, and everything after, is timed.
  const jsons = Array.from({ length: batches }, (_, i) =>
    batchJson(`${prefix}-b${i}`, `show${i % opts.shows}`, Math.floor(i / opts.shows) + 1, opts.batchBytes),
  );
  const latencies: number[] = [];
  let next = 0;
  const loop = async (): Promise<void> => {
    for (let m = next++; m < plan.messages; m = next++) {
      const lane = lanes[m % lanes.length];
      const previous = lane.tail;
      let done = (): void => undefined;
      lane.tail = new Promise<void>((r) => {
        done = r;
      });
      try {
        await previous; // a fenced subject takes one append at a time
        const [first, end] = batchesOfMessage(m, k, batches);
        const body = Buffer.from(messageBody(jsons.slice(first, end), k));
        const msgID = `${prefix}-m${m}`;
        const t0 = performance.now();
        const ack = await acks.publish(lane.subject, body, {
          msgID,
          stream,
          lastSubjectSequence: lane.lastSeq,
          timeoutMs: DEFAULT_PUBLISH_TIMEOUT_MS,
        });
        latencies.push(performance.now() - t0);
        lane.lastSeq = ack.seq;
      } finally {
        done();
      }
    }
  };
  await Promise.all(Array.from({ length: plan.inFlight }, loop));
  return latencies;
}

async function measure(
  acks: PubAckMux,
  stream: string,
  prefix: string,
  opts: JetStreamPackingBenchOptions,
  k: number,
  round: number,
): Promise<RoundResult> {
  const plan = planPacking(opts.batches, k, opts.shows, opts.inFlight);
  const natsPids = pidsByName('nats-server');
  const groups = [{ label: 'nats-server', pids: natsPids }];
  const serverBefore = snapshotCpu(groups);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const latencies = await publishAll(acks, stream, `${prefix}.r${round}.k${k}`, plan, opts, opts.batches);
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(clientBefore);
  const serverSec = natsPids.length > 0 ? (cpuDelta(serverBefore, snapshotCpu(groups))['nats-server'] ?? NaN) : NaN;
  const clientUsPerBatch = (client.user + client.system) / opts.batches;
  const natsServerUsPerBatch = (serverSec * 1e6) / opts.batches;
  return {
    k,
    round,
    messages: plan.messages,
    subjects: plan.subjects,
    inFlight: plan.inFlight,
    seconds,
    messagesPerSec: plan.messages / seconds,
    batchesPerSec: opts.batches / seconds,
    clientUsPerBatch,
    natsServerUsPerBatch,
    totalUsPerBatch: clientUsPerBatch + natsServerUsPerBatch,
    ackP50Ms: percentile(latencies, 50),
    ackP99Ms: percentile(latencies, 99),
  };
}

export async function run(opts: JetStreamPackingBenchOptions): Promise<BenchOutcome> {
  const phases = new Phases();
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  const stream = `JSPACK_BENCH_${runId}`;
  const subjectPrefix = `bench_jspack_${runId}`;
  const loadBefore = loadavg();
  process.stdout.write(
    `jetstream packing: ${formatNumber(opts.batches)} batches of ${opts.batchBytes} bytes, ${opts.shows} shows, ${opts.inFlight} in flight, ` +
      `${opts.rounds} rounds, k = ${opts.packing.join(',')}\n`,
  );
  const nc: NatsConnection = await connect({ servers: NATS_URL, name: 'bench-jetstream-packing', timeout: 5_000 });
  const serverVersion = nc.info?.version;
  const acks = new PubAckMux(nc);
  const rounds: RoundResult[] = [];
  try {
    const jsm = await nc.jetstreamManager();
    // The stream as the product makes its event stream (file storage, limits retention, its limits).
    await jsm.streams.add(
      eventStreamConfig({
        name: stream,
        subjectPrefix,
        maxMsgBytes: Math.min(DEFAULT_MAX_MSG_BYTES, nc.info?.max_payload ?? DEFAULT_MAX_MSG_BYTES),
        duplicateWindowMs: DEFAULT_DUPLICATE_WINDOW_MS,
        replicas: 1,
      }),
    );
    await phases.run('warm-up', async () => {
      for (const k of opts.packing) {
        const warm = { ...opts, batches: Math.min(opts.batches, WARMUP_BATCHES) };
        await publishAll(
          acks,
          stream,
          `${subjectPrefix}.warm.k${k}`,
          planPacking(warm.batches, k, opts.shows, opts.inFlight),
          warm,
          warm.batches,
        );
      }
    });
    for (let r = 1; r <= opts.rounds; r++)
      for (const k of r % 2 ? opts.packing : [...opts.packing].reverse()) {
        const result = await phases.run(`round ${r} k=${k}`, () => measure(acks, stream, subjectPrefix, opts, k, r));
        if (!result) continue;
        rounds.push(result);
        process.stdout.write(
          `  round ${r} k=${k}: ${formatNumber(result.batchesPerSec)} batches/s, ${formatNumber(result.totalUsPerBatch, 1)} µs CPU/batch ` +
            `(${result.subjects} subjects, ${result.inFlight} in flight)\n`,
        );
      }
  } finally {
    acks.close();
    const jsm = await nc.jetstreamManager().catch(() => null);
    await jsm?.streams.delete(stream).catch(() => false);
    await nc.close();
  }
  const loadAfter = loadavg();

  const summary = opts.packing.flatMap((k) => {
    const mine = rounds.filter((r) => r.k === k);
    if (mine.length === 0) return []; // it failed (said above)
    const med = (f: (r: RoundResult) => number) => median(mine.map(f));
    return {
      k,
      messages: mine[0].messages,
      subjects: mine[0].subjects,
      inFlight: mine[0].inFlight,
      messagesPerSec: med((r) => r.messagesPerSec),
      batchesPerSec: med((r) => r.batchesPerSec),
      clientUsPerBatch: med((r) => r.clientUsPerBatch),
      natsServerUsPerBatch: med((r) => r.natsServerUsPerBatch),
      totalUsPerBatch: med((r) => r.totalUsPerBatch),
      ackP50Ms: med((r) => r.ackP50Ms),
      ackP99Ms: med((r) => r.ackP99Ms),
    };
  });
  const base = summary.find((s) => s.k === 1)?.totalUsPerBatch;
  const rows = summary.map((s) => [
    s.k,
    formatNumber(s.subjects),
    formatNumber(s.messagesPerSec),
    formatNumber(s.batchesPerSec),
    formatNumber(s.clientUsPerBatch, 1),
    formatNumber(s.natsServerUsPerBatch, 1),
    formatNumber(s.totalUsPerBatch, 1),
    base ? (s.totalUsPerBatch / base).toFixed(2) : '-',
    formatNumber(s.ackP50Ms, 2),
    formatNumber(s.ackP99Ms, 2),
  ]);
  process.stdout.write(
    `\n${renderTable(
      [
        'k',
        'subjects',
        'messages/s',
        'batches/s',
        'client µs/batch',
        'nats-server µs/batch',
        'total µs/batch',
        'total vs k=1',
        'ack p50 ms',
        'ack p99 ms',
      ],
      rows,
    )}\n`,
  );
  process.stdout.write(`medians of ${opts.rounds} rounds; nats-server ${serverVersion ?? 'unknown'}, ${cpus().length} CPUs\n`);
  process.stdout.write(`${loadAverageLine(loadBefore, loadAfter)}\n`);
  const path = writeJson(opts.out ?? resultPath('jetstream-packing'), {
    bench: 'jetstream-packing',
    at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      loadBefore,
      loadAfter,
      natsServer: serverVersion ?? null,
      // nats-server's CPU is read in clock ticks: its µs/batch is ± one tick / batches.
      procCpuTickUs: 1e6 / ticksPerSecond(),
    },
    params: { ...opts, out: undefined, publishTimeoutMs: DEFAULT_PUBLISH_TIMEOUT_MS, warmupBatches: WARMUP_BATCHES },
    summary,
    rounds,
    failed: phases.failed,
  });
  process.stdout.write(`wrote ${path}\n`);
  return { failed: phases.failed };
}
