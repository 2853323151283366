/**
 * The fault suite: private servers, a 3-worker cluster and a gateway on them, and for each
 * fault in turn: fresh shows, customers running, the fault injected and healed, hold probes
 * across it, then the promises checked on that fault's shows. Used by `npm run chaos`
 * (bench/chaos/run.ts) and by the short version in test/cluster/chaos.test.ts.
 */
import { startCluster, until, type TestCluster } from '../cluster.ts';
import { showInput } from '../shows.ts';
import { Customers, DEFAULT_CUSTOMER_OPTIONS } from './customers.ts';
import type { ChaosContext, Fault } from './faults/index.ts';
import { checkInvariants, type InvariantReport } from './invariants.ts';
import { startPrivateServices, type PrivateServices } from '../private-services.ts';
import { probeHold, type ProbeResult } from './probes.ts';
import { summarize, type FaultSummary } from './summary.ts';

export interface ChaosOptions {
  faults: Fault[];
  customers?: number;
  workers?: number;
  /** Shows per fault (customers spread over them). */
  shows?: number;
  /** Customers run this long before each fault. */
  baselineMs?: number;
  /** After heal, customers keep running this long (the recovery window). */
  settleMs?: number;
  /** Hold probes per fault (half placed as the fault starts, half midway). */
  probes?: number;
  probeTtlSeconds?: number;
  /** Overrides every fault's own hold time (the short version in `npm test`). */
  holdMs?: number;
  log?: (msg: string) => void;
}

export interface FaultResult {
  fault: string;
  summary: string;
  acked: number;
  customers: FaultSummary;
  invariants: InvariantReport;
  probes: ProbeResult[];
  /** From heal until every live process saw every worker of the cluster (null: not within 30 s). */
  ringBackMs: number | null;
  /** Workers that exited on their own during the fault (restarted before the next one). */
  crashedWorkers: string[];
  notes: Record<string, unknown>;
  error?: string;
}

export interface ChaosResult {
  startedAt: string;
  postgresMode: string;
  options: {
    customers: number;
    workers: number;
    shows: number;
    baselineMs: number;
    settleMs: number;
    probes: number;
    probeTtlSeconds: number;
  };
  faults: FaultResult[];
}

const SEAT_ROWS = 20;
const SEATS_PER_ROW = 25;
const PROBE_SEATS = 10;
const RING_BACK_WAIT_MS = 30_000;
const SHOW_CREATE_WAIT_MS = 30_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function createShow(cluster: TestCluster, showId: string, rows: number, perRow: number): Promise<void> {
  await until(
    async () => {
      const r = await cluster.request('POST', '/v1/shows', showInput(showId, rows, perRow), {
        admin: true,
        headers: { 'idempotency-key': `create-${showId}` },
      });
      return r.status === 201 || r.status === 200;
    },
    SHOW_CREATE_WAIT_MS,
    `show ${showId} created`,
  );
}

/** Creates `n` probe shows that `owner` owns (as the gateway sees the ring). */
async function showsOwnedBy(cluster: TestCluster, owner: string, prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let k = 0; ids.length < n && k < 500; k++) if ((await cluster.ownerOf(`${prefix}-${k}`)) === owner) ids.push(`${prefix}-${k}`);
  for (const id of ids) await createShow(cluster, id, 1, PROBE_SEATS);
  return ids;
}

/**
 * Every node id the cluster had must have a live process after heal (a duplicate shares its id
 * with a live one, so its death is expected). A worker that died on its own is restarted, so
 * the next fault starts from a whole cluster, and reported.
 */
async function reviveCrashed(cluster: TestCluster): Promise<string[]> {
  const crashed: string[] = [];
  const ids = [...new Set(cluster.workers.map((w) => w.nodeId))];
  for (const id of ids) {
    if (cluster.workers.some((w) => w.alive && w.nodeId === id)) continue;
    const i = cluster.workers.map((w) => w.nodeId).lastIndexOf(id);
    crashed.push(`${id} (exit ${String(await cluster.workers[i]!.exited)})`);
    await cluster.restartWorker(i).catch(() => undefined);
  }
  return crashed;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosResult> {
  const log = opts.log ?? (() => undefined);
  const o = {
    customers: opts.customers ?? DEFAULT_CUSTOMER_OPTIONS.customers,
    workers: opts.workers ?? 3,
    shows: opts.shows ?? 6,
    baselineMs: opts.baselineMs ?? 2_000,
    settleMs: opts.settleMs ?? 5_000,
    probes: opts.probes ?? 4,
    probeTtlSeconds: opts.probeTtlSeconds ?? 2,
  };
  const services: PrivateServices = await startPrivateServices();
  log(
    `private servers: nats ${services.nats.url}, redis ${services.redis.url}, postgres ${services.postgres.url} (${services.postgresMode})`,
  );
  let cluster: TestCluster | null = null;
  const result: ChaosResult = { startedAt: new Date().toISOString(), postgresMode: services.postgresMode, options: o, faults: [] };
  try {
    cluster = await startCluster({
      workers: o.workers,
      gateways: 1,
      services: { postgres: services.postgres.url, nats: services.nats.url, redis: services.redis.url },
    });
    const c = cluster;
    const gatewayUrl = c.gateways[0]!.url;
    const ref = { natsUrl: services.nats.url, databaseUrl: c.databaseUrl, stream: c.stream, eventSubjectPrefix: c.eventSubjectPrefix };
    let round = 0;
    for (const fault of opts.faults) {
      round++;
      log(`fault ${fault.name}: ${fault.summary}`);
      const ctx: ChaosContext = {
        cluster: c,
        services,
        // Rotate over the workers so no single one takes every hit.
        victim: () => {
          const live = c.workers.map((w, i) => ({ w, i })).filter((x) => x.w.alive);
          return live[round % live.length]!.i;
        },
        log,
      };
      const prefix = `${fault.name}-${round}`;
      const showIds = Array.from({ length: o.shows }, (_, i) => `${prefix}-${i}`);
      const probeShows = Array.from({ length: Math.max(1, Math.ceil(o.probes / 2)) }, (_, i) => `${prefix}-probe-${i}`);
      const fr: FaultResult = {
        fault: fault.name,
        summary: fault.summary,
        acked: 0,
        customers: summarize([], { startedAt: 0, injectedAt: 0, healedAt: 0, settledAt: 0 }),
        invariants: { lost: [], oversold: [], mismatched: [], holdDeadlines: [], holdOffByMaxMs: null },
        probes: [],
        ringBackMs: null,
        crashedWorkers: [],
        notes: {},
      };
      result.faults.push(fr);
      const customers = new Customers({ ...DEFAULT_CUSTOMER_OPTIONS, gatewayUrl, customers: o.customers }, showIds);
      try {
        for (const id of [...showIds, ...probeShows])
          await createShow(c, id, id.includes('-probe-') ? 1 : SEAT_ROWS, id.includes('-probe-') ? PROBE_SEATS : SEATS_PER_ROW);
        const startedAt = Date.now();
        customers.start();
        await sleep(o.baselineMs);

        const probeRuns: Promise<ProbeResult>[] = [];
        const injectedAt = Date.now();
        const injected = await fault.inject(ctx);
        const probeOn = injected.probeOwner
          ? await showsOwnedBy(c, injected.probeOwner, `${prefix}-probe-own`, probeShows.length)
          : probeShows;
        const probe = (k: number) =>
          probeHold(gatewayUrl, probeOn[k % probeOn.length]!, `A-${1 + (k % PROBE_SEATS)}`, o.probeTtlSeconds, 20_000, 30_000);
        for (let k = 0; k < Math.ceil(o.probes / 2); k++) probeRuns.push(probe(k));
        const holdMs = opts.holdMs ?? fault.holdMs;
        await sleep(holdMs / 2);
        for (let k = Math.ceil(o.probes / 2); k < o.probes; k++) probeRuns.push(probe(k));
        await sleep(holdMs / 2);
        const healStarted = Date.now();
        await injected.heal();
        const healedAt = Date.now();
        log(`  healed after ${healedAt - injectedAt} ms (heal took ${healedAt - healStarted} ms)`);
        // Every node id the cluster had, back in every live process's ring (timed from heal, alongside the settle window).
        const ringBack = c
          .waitForMembers([...new Set(c.workers.map((w) => w.nodeId))], RING_BACK_WAIT_MS)
          .then(() => Date.now() - healedAt)
          .catch(() => null);
        await sleep(o.settleMs);
        const settledAt = Date.now();
        await customers.stop();

        fr.crashedWorkers = await reviveCrashed(c);
        fr.ringBackMs = await ringBack;
        fr.probes = await Promise.all(probeRuns);
        fr.notes = (await injected.notes?.()) ?? {};
        fr.customers = summarize(customers.attempts, { startedAt, injectedAt, healedAt, settledAt });
        fr.acked = customers.acked.length;
        fr.invariants = await checkInvariants(gatewayUrl, ref, showIds, customers.acked, fr.probes);
      } catch (err) {
        fr.error = String(err);
        log(`  fault ${fault.name} failed: ${fr.error}`);
        await customers.stop();
        fr.crashedWorkers.push(...(await reviveCrashed(c).catch(() => [])));
      }
      const inv = fr.invariants;
      log(
        `  acked ${fr.acked}, lost ${inv.lost.length}, oversold ${inv.oversold.length}, mismatched ${inv.mismatched.length}, hold deadlines off ${inv.holdDeadlines.length}, errors during ${fr.customers.during.errorPct ?? '-'}%`,
      );
    }
  } finally {
    await cluster?.stop().catch(() => undefined);
    await services.stop();
  }
  return result;
}
