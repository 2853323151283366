/**
 * bench/group-commit — confirms/s over many small shows on the durable storage (JetStream log
 * + Postgres bookings), with the booking rows of concurrent show batches merged into shared
 * statements (group commit, the default) against one statement per show batch
 * (BOOKING_GROUP_COMMIT=0). The modes run in interleaved rounds in one process, each on its
 * own node, connections and shows, so they meet the same machine load; the table gives each
 * mode's median over the rounds and its ratio to `off`.
 *
 * Workload: `inflight` clients (default one per show), client c working on show c % shows:
 * hold one seat (best available), confirm it, again until the round's time is up.
 *
 * Modes: off (one statement per show batch), on-1 (group commit, one statement in flight:
 * the default), on-2 (group commit, two statements in flight). NATS and Postgres from
 * BENCH_NATS_URL / BENCH_DATABASE_URL (default: the local servers); the bench makes its own
 * database and stream and removes them at the end. Writes bench/results/group-commit.json.
 * A mode that fails to open, or a round that throws, is reported and fails the bench; the
 * others still run. The command line is run.ts.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import pino from 'pino';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openDurableStorage, type DurableOptions } from '../../src/persistence/durable-storage.ts';
import type { Storage } from '../../src/persistence/index.ts';
import type { PostgresBookingStore } from '../../src/persistence/postgres-booking-store.ts';
import { Histogram } from '../../testkit/histogram.ts';
import { median } from '../../testkit/percentile.ts';
import { deleteSeatStreamsAt } from '../../testkit/seat-streams.ts';
import { benchShowInput } from '../../testkit/shows.ts';
import type { BenchOutcome } from '../lib/cli.ts';
import { createDatabase, dropDatabase } from '../lib/pg-admin.ts';
import { Phases } from '../lib/phases.ts';
import { resultPath, writeJson } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';

export const GROUP_COMMIT_MODES = ['off', 'on-1', 'on-2'] as const;
type Mode = (typeof GROUP_COMMIT_MODES)[number];

export interface GroupCommitBenchOptions {
  /** Shows per mode (500 seats each). */
  shows: number;
  /** Concurrent clients per mode (client c on show c % shows). */
  inflight: number;
  /** Seconds per round. */
  seconds: number;
  rounds: number;
  modes: Mode[];
  /** Results file (default bench/results/group-commit.json). */
  out?: string | undefined;
}

const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_DB_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const SECRET = 'bench-group-commit-secret-0123456789';
/** Small shows: 2 rows of 250 seats, as the spread phase of bench:compare. */
const ROWS_PER_SHOW = 2;
const SEATS_PER_ROW = 250;

/** This run's names on the shared Postgres and NATS. */
interface RunNames {
  runId: string;
  dbName: string;
  stream: string;
}

function runNames(): RunNames {
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  return { runId, dbName: `seats_bench_gc_${runId}`, stream: `SEATS_BENCH_GC_${runId}` };
}

function uptime(): string {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

interface Node {
  mode: Mode;
  node: SeatNode;
  storage: Storage;
  bookings: PostgresBookingStore;
  showIds: string[];
}

async function openNode(opts: GroupCommitBenchOptions, mode: Mode, dbUrl: string, { runId, stream }: RunNames): Promise<Node> {
  const options: DurableOptions = {
    stream,
    eventSubjectPrefix: `bench_gc_${runId}.events`,
    busSubjectPrefix: `bench_gc_${runId}.bus.${mode.replace('-', '_')}`,
    clientName: `bench-group-commit-${mode}`,
    bookingGroupCommit: mode !== 'off',
    ...(mode === 'off' ? {} : { bookingWritesInFlight: mode === 'on-1' ? 1 : 2 }),
  };
  const storage = await openDurableStorage({ natsUrl: NATS_URL, databaseUrl: dbUrl, nodeId: `bench-${mode}` }, logger, options);
  const node = createSeatNode({ holdTokenSecret: SECRET, snapshotEveryEvents: 5_000, snapshotEveryMs: 60_000 }, storage, logger);
  const showIds = Array.from({ length: opts.shows }, (_, i) => `gc-${mode}-${runId}-${i}`);
  for (let i = 0; i < showIds.length; i += 50)
    await Promise.all(showIds.slice(i, i + 50).map((id) => node.service.createShow(benchShowInput(id, ROWS_PER_SHOW, SEATS_PER_ROW))));
  return { mode, node, storage, bookings: storage.bookings as PostgresBookingStore, showIds };
}

interface RoundResult {
  mode: Mode;
  round: number;
  confirms: number;
  seconds: number;
  confirmsPerSec: number;
  statements: number;
  rowsPerStatement: number;
  confirmP50Ms: number;
  confirmP99Ms: number;
}

async function round(opts: GroupCommitBenchOptions, n: Node, roundNo: number): Promise<RoundResult> {
  const s = n.node.service;
  const latency = new Histogram();
  const before = n.bookings.stats;
  let confirms = 0;
  const started = performance.now();
  const deadline = started + opts.seconds * 1000;
  const client = async (c: number): Promise<void> => {
    const showId = n.showIds[c % n.showIds.length];
    for (let k = 0; performance.now() < deadline; k++) {
      let h;
      try {
        h = await s.hold(showId, { count: 1 });
      } catch (err) {
        if ((err as { code?: string }).code === 'SEAT_UNAVAILABLE') return; // the show is sold out
        throw err;
      }
      const t0 = performance.now();
      await s.confirm(showId, h.holdId, h.holdToken, { paymentRef: `pay-${roundNo}-${c}-${k}` });
      latency.recordMs(performance.now() - t0);
      confirms++;
    }
  };
  await Promise.all(Array.from({ length: opts.inflight }, (_, c) => client(c)));
  const seconds = (performance.now() - started) / 1000;
  const after = n.bookings.stats;
  const statements = after.statements - before.statements;
  return {
    mode: n.mode,
    round: roundNo,
    confirms,
    seconds,
    confirmsPerSec: confirms / seconds,
    statements,
    rowsPerStatement: statements ? (after.rows - before.rows) / statements : 0,
    confirmP50Ms: latency.quantileMs(0.5),
    confirmP99Ms: latency.quantileMs(0.99),
  };
}

export async function run(opts: GroupCommitBenchOptions): Promise<BenchOutcome> {
  const { shows: SHOWS, inflight: INFLIGHT, seconds: SECONDS, rounds: ROUNDS, modes: MODE_LIST } = opts;
  const phases = new Phases();
  const names = runNames();
  const loadBefore = uptime();
  process.stdout.write(
    `group commit: ${SHOWS} shows, ${INFLIGHT} clients, ${ROUNDS} rounds of ${SECONDS} s, modes ${MODE_LIST.join(',')}\nload before: ${loadBefore}\n`,
  );
  const dbUrl = await createDatabase(names.dbName, ADMIN_DB_URL);
  const nodes: Node[] = [];
  const rounds: RoundResult[] = [];
  try {
    for (const mode of MODE_LIST)
      await phases.run(`open ${mode}`, async () => {
        const opened = await openNode(opts, mode, dbUrl, names);
        nodes.push(opened);
        // Warm every show up (activation, first commit) outside the measured rounds.
        await Promise.all(opened.showIds.map((id) => opened.node.service.getSeatMap(id)));
      });
    for (let r = 1; r <= ROUNDS; r++)
      for (const n of r % 2 ? nodes : [...nodes].reverse()) {
        const result = await phases.run(`round ${r} ${n.mode}`, () => round(opts, n, r));
        if (!result) continue;
        rounds.push(result);
        process.stdout.write(
          `  round ${r} ${n.mode}: ${formatNumber(result.confirmsPerSec)} confirms/s, ${formatNumber(result.rowsPerStatement, 1)} rows/statement\n`,
        );
      }
  } finally {
    for (const n of nodes) await n.node.close().catch(() => undefined);
    await Promise.allSettled([deleteSeatStreamsAt(NATS_URL, names.stream), dropDatabase(names.dbName, ADMIN_DB_URL)]);
  }
  const loadAfter = uptime();

  const summary = MODE_LIST.flatMap((mode) => {
    const mine = rounds.filter((r) => r.mode === mode);
    if (mine.length === 0) return []; // it failed (said above)
    return {
      mode,
      confirmsPerSec: median(mine.map((r) => r.confirmsPerSec)),
      minConfirmsPerSec: Math.min(...mine.map((r) => r.confirmsPerSec)),
      maxConfirmsPerSec: Math.max(...mine.map((r) => r.confirmsPerSec)),
      rowsPerStatement: median(mine.map((r) => r.rowsPerStatement)),
      statementsPerSec: median(mine.map((r) => r.statements / r.seconds)),
      confirmP50Ms: median(mine.map((r) => r.confirmP50Ms)),
      confirmP99Ms: median(mine.map((r) => r.confirmP99Ms)),
    };
  });
  const off = summary.find((s) => s.mode === 'off')?.confirmsPerSec;
  const rows = summary.map((s) => [
    s.mode,
    formatNumber(s.confirmsPerSec),
    `${formatNumber(s.minConfirmsPerSec)}–${formatNumber(s.maxConfirmsPerSec)}`,
    off ? `${(s.confirmsPerSec / off).toFixed(2)}×` : '-',
    formatNumber(s.statementsPerSec),
    formatNumber(s.rowsPerStatement, 1),
    formatNumber(s.confirmP50Ms, 1),
    formatNumber(s.confirmP99Ms, 1),
  ]);
  process.stdout.write(
    `\n${renderTable(['mode', 'confirms/s (median)', 'range', 'vs off', 'statements/s', 'rows/statement', 'confirm p50 ms', 'confirm p99 ms'], rows)}\n`,
  );
  process.stdout.write(`load after: ${loadAfter}\n`);
  const path = writeJson(opts.out ?? resultPath('group-commit'), {
    bench: 'group-commit',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, loadBefore, loadAfter },
    params: {
      shows: SHOWS,
      inflight: INFLIGHT,
      seconds: SECONDS,
      rounds: ROUNDS,
      modes: MODE_LIST,
      seatsPerShow: ROWS_PER_SHOW * SEATS_PER_ROW,
    },
    summary,
    rounds,
    failed: phases.failed,
  });
  process.stdout.write(`wrote ${path}\n`);
  return { failed: phases.failed };
}
