/**
 * bench/durable — the seat service (LocalSeatService → ActorHost → storage) on each storage:
 *
 *   memory               in-process log and stores (the ceiling)
 *   embedded             the single-process file store
 *   durable              JetStream log + Postgres snapshots/catalog/bookings
 *   durable-no-bookings  the same without the Postgres booking commit before a confirm's reply
 *
 * Workloads: hold→release and hold→confirm pairs from `--inflight` concurrent clients, on one
 * hot show and spread over `--shows` shows; hold→confirm one at a time (the latency of a
 * lone confirm). Then recovery: a `--seats` show with `--events` events (one command each,
 * interleaved with another show's) after its snapshot, rebuilt from scratch.
 * Prints tables and writes bench/results/durable.json. A load row or a recovery that throws
 * is reported and fails the bench; the others still run. The command line is run.ts.
 *
 * NATS and Postgres from BENCH_NATS_URL / BENCH_DATABASE_URL (default: the local servers);
 * the bench makes its own database and stream and removes them at the end.
 */
import { benchShowInput } from '../../testkit/shows.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import pg from 'pg';
import pino from 'pino';
import { ActorHost } from '../../src/actors/actor-host.ts';
import { deserializeState, type SerializedState } from '../../src/actors/state-codec.ts';
import { createSeatNode, type SeatNode } from '../../src/node.ts';
import { openDurableStorage, type DurableOptions } from '../../src/persistence/durable-storage.ts';
import { openMemoryStorage, type Storage } from '../../src/persistence/index.ts';
import { JetStreamEventLog } from '../../src/persistence/jetstream-event-log.ts';
import type { CreateShowInput } from '../../src/service/seat-service.ts';
import { openEmbeddedStorage } from '../../src/persistence/embedded.ts';
import type { BenchOutcome } from '../lib/cli.ts';
import { Phases } from '../lib/phases.ts';
import { Histogram } from '../../testkit/histogram.ts';
import { median } from '../../testkit/percentile.ts';
import { createHoldPairShows, type HoldPairWorkload, runHoldPairClients } from '../../testkit/hold-pair-clients.ts';
import { deleteSeatStreamsAt } from '../../testkit/seat-streams.ts';
import { resultPath, writeJson } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';

export const KINDS = ['memory', 'embedded', 'durable', 'durable-no-bookings'] as const;
type Kind = (typeof KINDS)[number];
export const DURABLE_PHASES = ['load', 'recovery'] as const;
export const WORKLOADS_ALL = ['hold/release', 'hold/confirm'] as const;

export interface DurableBenchOptions {
  /** Seconds of load per row. */
  seconds: number;
  inflight: number;
  /** Shows of the spread rows. */
  shows: number;
  recoverySeats: number;
  recoveryEvents: number;
  storages: Kind[];
  phases: Array<(typeof DURABLE_PHASES)[number]>;
  workloads: Array<(typeof WORKLOADS_ALL)[number]>;
  /** Postgres booking writes in flight (default: the storage's own). */
  bookingWrites?: number | undefined;
}

const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const ADMIN_DB_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const SECRET = 'bench-durable-secret-0123456789';
const SEATS_PER_ROW = 250;

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_DB_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function showInput(id: string, rows: number, perRow = SEATS_PER_ROW): CreateShowInput {
  return benchShowInput(id, rows, perRow);
}

type Workload = HoldPairWorkload;

interface LoadRow {
  storage: Kind;
  workload: Workload;
  shows: number;
  inflight: number;
  commands: number;
  seconds: number;
  commandsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  holdP99Ms: number;
  secondP99Ms: number;
}

interface RecoveryRow {
  storage: Kind | 'durable (read from afterSeq)';
  seats: number;
  eventsAfterSnapshot: number;
  logEntries: number;
  snapshotMs: number;
  loadMs: number;
  activateMs: number;
}

async function collectSeqs(storage: Storage, showId: string): Promise<number[]> {
  const seqs: number[] = [];
  for await (const e of storage.log.read(showId, 0)) seqs.push(e.seq);
  return seqs;
}

export async function run(opts: DurableBenchOptions): Promise<BenchOutcome> {
  const {
    seconds: SECONDS,
    inflight: INFLIGHT,
    shows: SHOWS,
    recoverySeats: RECOVERY_SEATS,
    recoveryEvents: RECOVERY_EVENTS,
    storages: STORAGES,
    phases: PHASES,
    workloads: WORKLOADS,
    bookingWrites: BOOKING_WRITES,
  } = opts;
  const runId = `${process.pid}_${Date.now().toString(36)}`;
  const dbName = `seats_bench_${runId}`;
  const stream = `SEATS_BENCH_${runId}`;
  const durableOptions: DurableOptions = {
    stream,
    eventSubjectPrefix: `bench_${runId}.events`,
    busSubjectPrefix: `bench_${runId}.bus`,
    ...(BOOKING_WRITES !== undefined ? { bookingWritesInFlight: BOOKING_WRITES } : {}),
  };
  const dbUrl = (() => {
    const u = new URL(ADMIN_DB_URL);
    u.pathname = `/${dbName}`;
    return u.toString();
  })();

  async function openKind(kind: Kind): Promise<{ storage: Storage; cleanup: () => Promise<void> }> {
    switch (kind) {
      case 'memory':
        return { storage: openMemoryStorage(logger), cleanup: async () => undefined };
      case 'embedded': {
        const dir = await mkdtemp(join(tmpdir(), 'seats-bench-durable-'));
        return { storage: await openEmbeddedStorage(dir, logger), cleanup: () => rm(dir, { recursive: true, force: true }) };
      }
      case 'durable':
      case 'durable-no-bookings': {
        const storage = await openDurableStorage({ natsUrl: NATS_URL, databaseUrl: dbUrl, nodeId: 'bench' }, logger, durableOptions);
        if (kind === 'durable-no-bookings') delete storage.bookings;
        return { storage, cleanup: async () => undefined };
      }
      default: {
        const unreachable: never = kind;
        throw new Error(`unknown storage ${String(unreachable)}`);
      }
    }
  }

  /** Pairs of commands from `inflight` clients, each client on its own seats of the show it is given. */
  async function load(kind: Kind, workload: Workload, shows: number, inflight: number, seconds: number): Promise<LoadRow> {
    const { storage, cleanup } = await openKind(kind);
    const node: SeatNode = createSeatNode(
      { holdTokenSecret: SECRET, snapshotEveryEvents: 5_000, snapshotEveryMs: 60_000 },
      storage,
      logger,
    );
    const s = node.service;
    const tag = `${kind}-${workload.replace('/', '-')}-${shows}-${inflight}-${Date.now().toString(36)}`;
    // One hot show of 200,000 seats, or `shows` shows of 500 seats.
    const { showIds, seatsPerShow } = await createHoldPairShows(s, tag, shows, SEATS_PER_ROW);

    const all = new Histogram();
    const holds = new Histogram();
    const seconds2 = new Histogram();
    let commands = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;
    await runHoldPairClients({
      service: s,
      showIds,
      workload,
      inflight,
      seatsPerShow,
      seatsPerRow: SEATS_PER_ROW,
      deadline,
      skipUnavailable: true,
      onHold: (ms) => {
        holds.recordMs(ms);
        all.recordMs(ms);
      },
      onSecond: (ms) => {
        seconds2.recordMs(ms);
        all.recordMs(ms);
        commands += 2;
      },
    });
    const elapsed = (performance.now() - started) / 1000;
    await node.close();
    await cleanup();
    return {
      storage: kind,
      workload,
      shows,
      inflight,
      commands,
      seconds: elapsed,
      commandsPerSec: commands / elapsed,
      p50Ms: all.quantileMs(0.5),
      p99Ms: all.quantileMs(0.99),
      holdP99Ms: holds.quantileMs(0.99),
      secondP99Ms: seconds2.quantileMs(0.99),
    };
  }

  /**
   * A `seats` show snapshotted, then `events` one-event batches (holds of one seat),
   * interleaved with another show's on the same log. Times: loading the snapshot alone, the
   * whole rebuild (ActorHost.load: snapshot + tail), and an activation through a node (the
   * rebuild plus the actor's start: expiry heap, booking repair check); the median of 3.
   */
  async function recovery(kind: Kind, seats: number, events: number): Promise<RecoveryRow[]> {
    const { storage, cleanup } = await openKind(kind);
    const node = createSeatNode({ holdTokenSecret: SECRET, snapshotEveryEvents: 1e9, snapshotEveryMs: 1e9 }, storage, logger);
    const showId = `recovery-${kind}-${Date.now().toString(36)}`;
    const other = `${showId}-other`;
    const rows = Math.ceil(seats / SEATS_PER_ROW);
    await node.service.createShow(showInput(showId, rows));
    await node.service.createShow(showInput(other, 2));
    await node.host.snapshot(showId);
    let i = 0;
    const tail = async () => {
      for (; i < events; ) {
        const n = i++;
        await node.host.execute(showId, {
          type: 'hold',
          holdId: `rh-${n}`,
          seats: [`R${Math.floor(n / SEATS_PER_ROW)}-${(n % SEATS_PER_ROW) + 1}`],
        });
      }
    };
    let noise = 0;
    let tailDone = false;
    const interleave = async () => {
      while (!tailDone) {
        const n = noise++;
        await node.host.execute(other, { type: 'hold', holdId: `oh-${n}`, seats: ['R0-1'] });
        await node.host.execute(other, { type: 'release', holdId: `oh-${n}` });
      }
    };
    const noiseDone = interleave();
    await tail();
    tailDone = true;
    await noiseDone;
    const logEntries = (await collectSeqs(storage, showId)).length;
    const time = async (fn: () => Promise<unknown>) => {
      const ms: number[] = [];
      for (let r = 0; r < 3; r++) {
        const t0 = performance.now();
        await fn();
        ms.push(performance.now() - t0);
      }
      return median(ms);
    };
    const snapshotMs = await time(async () => {
      const snap = await storage.snapshots.load(showId);
      if (!snap) throw new Error('no snapshot');
      deserializeState(snap.state as SerializedState);
    });
    const loadMs = await time(async () => {
      const r = await new ActorHost({ log: storage.log, snapshots: storage.snapshots, logger }).load(showId);
      if (r.replayed !== events) throw new Error(`replayed ${r.replayed}, expected ${events}`);
    });
    const activateMs = await time(async () => {
      // Not closed: closing would snapshot the show and leave the next round nothing to replay.
      const fresh = createSeatNode({ holdTokenSecret: SECRET, snapshotEveryEvents: 1e9, snapshotEveryMs: 1e9 }, storage, logger);
      await fresh.host.read(showId, (st) => st.holds.size);
    });
    const out: RecoveryRow[] = [
      { storage: kind, seats: rows * SEATS_PER_ROW, eventsAfterSnapshot: events, logEntries, snapshotMs, loadMs, activateMs },
    ];
    if (kind === 'durable') {
      // The same rebuild with the consumer started at the snapshot's seq: the path that is
      // right on nats-server >= 2.9.15 and slow on 2.9.10 (see JetStreamEventLog).
      const nc = await connect({ servers: NATS_URL });
      const direct = await JetStreamEventLog.open(nc, {
        logger,
        stream,
        subjectPrefix: durableOptions.eventSubjectPrefix,
        readFromSubjectStart: false,
      });
      const t0 = performance.now();
      await new ActorHost({ log: direct, snapshots: storage.snapshots, logger }).load(showId);
      out.push({
        storage: 'durable (read from afterSeq)',
        seats: rows * SEATS_PER_ROW,
        eventsAfterSnapshot: events,
        logEntries,
        snapshotMs,
        loadMs: performance.now() - t0,
        activateMs: NaN,
      });
      await nc.close();
    }
    await node.close();
    await cleanup();
    return out;
  }

  async function main(): Promise<BenchOutcome> {
    const needsServices = STORAGES.some((k) => k.startsWith('durable'));
    if (needsServices) await adminQuery(`CREATE DATABASE ${dbName}`);
    const loadRows: LoadRow[] = [];
    const recoveryRows: RecoveryRow[] = [];
    const phases = new Phases();
    try {
      for (const kind of PHASES.includes('load') ? STORAGES : []) {
        for (const workload of WORKLOADS) {
          for (const shows of [1, SHOWS]) {
            const row = await phases.run(`load ${kind} ${workload} shows=${shows}`, () => load(kind, workload, shows, INFLIGHT, SECONDS));
            if (!row) continue;
            loadRows.push(row);
            process.stderr.write(
              `${kind} ${workload} shows=${shows}: ${formatNumber(row.commandsPerSec)} cmd/s, p99 ${formatNumber(row.p99Ms, 2)} ms\n`,
            );
          }
        }
        // A lone client: what one confirm costs end to end, without group commit to share it.
        if (WORKLOADS.includes('hold/confirm')) {
          const lone = await phases.run(`load ${kind} hold/confirm lone client`, () =>
            load(kind, 'hold/confirm', 1, 1, Math.min(SECONDS, 2)),
          );
          if (lone) loadRows.push(lone);
        }
      }
      for (const kind of PHASES.includes('recovery') ? STORAGES.filter((k) => k === 'memory' || k === 'durable') : []) {
        process.stderr.write(`recovery on ${kind}: ${RECOVERY_SEATS} seats, ${RECOVERY_EVENTS} events after the snapshot...\n`);
        recoveryRows.push(...((await phases.run(`recovery ${kind}`, () => recovery(kind, RECOVERY_SEATS, RECOVERY_EVENTS))) ?? []));
      }
    } finally {
      if (needsServices) {
        await deleteSeatStreamsAt(NATS_URL, stream);
        await adminQuery(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      }
    }

    process.stdout.write(
      `\nthroughput and latency per command (service → actor host → storage), ${cpus().length} cores, ${SECONDS}s each\n\n` +
        renderTable(
          ['storage', 'workload', 'shows', 'in flight', 'commands/s', 'p50 ms', 'p99 ms', 'hold p99', '2nd p99'],
          loadRows.map((r) => [
            r.storage,
            r.workload,
            r.shows,
            r.inflight,
            formatNumber(r.commandsPerSec),
            formatNumber(r.p50Ms, 2),
            formatNumber(r.p99Ms, 2),
            formatNumber(r.holdP99Ms, 2),
            formatNumber(r.secondP99Ms, 2),
          ]),
        ) +
        (recoveryRows.length === 0
          ? ''
          : '\n\nrecovery (median of 3; snapshot = load and decode the snapshot alone; rebuild = snapshot + tail; activation = rebuild + actor start through a node)\n\n' +
            renderTable(
              ['storage', 'seats', 'events after snapshot', 'log entries', 'snapshot ms', 'rebuild ms', 'activation ms'],
              recoveryRows.map((r) => [
                r.storage,
                r.seats,
                r.eventsAfterSnapshot,
                r.logEntries,
                formatNumber(r.snapshotMs, 1),
                formatNumber(r.loadMs, 1),
                formatNumber(r.activateMs, 1),
              ]),
            )) +
        '\n',
    );
    const path = writeJson(resultPath('durable'), {
      bench: 'durable',
      at: new Date().toISOString(),
      machine: { cores: cpus().length, node: process.version },
      params: {
        phases: PHASES,
        workloads: WORKLOADS,
        bookingWritesInFlight: BOOKING_WRITES ?? 'default',
        seconds: SECONDS,
        inflight: INFLIGHT,
        shows: SHOWS,
        recoverySeats: RECOVERY_SEATS,
        recoveryEvents: RECOVERY_EVENTS,
        storages: STORAGES,
      },
      load: loadRows,
      recovery: recoveryRows,
      failedPhases: phases.failed,
    });
    process.stdout.write(`\nwrote ${path}\n`);
    return { failed: phases.failed };
  }

  return main();
}
