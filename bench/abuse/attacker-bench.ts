/**
 * Does one abusive address hurt everyone else? A seat server (its own process, embedded
 * storage) behind a trusted proxy (TRUSTED_PROXIES=127.0.0.1, so X-Forwarded-For names the
 * client). Legitimate clients, spread over many addresses as fans are, hold two seats and
 * release them in a loop. Phases, each on a fresh server:
 *   1. legit alone (the baseline),
 *   2. legit while one address hammers holds of 10 seats and never releases. The attack
 *      starts first; legit throughput is measured once the attacker has spent its minute's
 *      budget (its first 429), i.e. during a sustained attack. What the opening burst cost is
 *      reported beside it (`attackerBurstSeconds`).
 *   3. the same attack against a server with RATE_LIMIT_HOLDS_PER_MINUTE=0 (what happened
 *      before the limits: the attacker takes the show).
 * Phases 1 and 2 alternate for --rounds rounds (the box is shared; alternating keeps drift
 * out of the ratio) and the medians are compared. Prints a table and writes
 * bench/results/abuse-attacker.json; legitimate throughput under attack must stay at least
 * 90 % of the baseline (the bench fails otherwise). The command line is run-attacker.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_HOLDS_PER_ADDRESS_PER_MINUTE, DEFAULT_HOLDS_PER_CUSTOMER_PER_MINUTE } from '../../src/gateway/limits/index.ts';
import { spawnServer, type SpawnedServer } from '../../testkit/spawn-server.ts';
import { createClient } from '../../src/client/index.ts';
import type { BenchOutcome } from '../lib/cli.ts';
import { median, percentile } from '../../testkit/percentile.ts';
import { writeResults } from '../lib/results.ts';
import { formatNumber, renderTable } from '../lib/table.ts';

export interface AttackerBenchOptions {
  /** Seconds of load per phase. */
  seconds: number;
  /** Concurrent legitimate clients (each a closed loop: hold, release, next). */
  legit: number;
  /** Concurrent request loops of the one abusive address. */
  attackers: number;
  /** Distinct addresses the legitimate clients rotate through (each stays far under its limit). */
  addresses: number;
  /** Alternations of the baseline and the attacked phase. */
  rounds: number;
  out?: string | undefined;
}

/** Longest the attack may run before the measurement starts when it is never refused. */
const BURST_MAX_MS = 10_000;
const ROWS = 100;
const SEATS_PER_ROW = 100;
const ATTACKER_ADDRESS = '203.0.113.66';
/** A minimum share of the baseline the legitimate clients must keep under attack. */
const REQUIRED_SHARE = 0.9;

interface Answer {
  status: number;
  body: any;
}

interface LegitStats {
  cycles: number;
  refused429: number;
  unavailable: number;
  otherErrors: number;
  latenciesMs: number[];
}

interface AttackStats {
  holds: number;
  refused429: number;
  unavailable: number;
  requests: number;
}

async function startSeatServer(holdsPerMinute: number): Promise<{ server: SpawnedServer; adminToken: string; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-abuse-'));
  const adminToken = randomBytes(18).toString('base64url');
  // The limits under test, set explicitly (spawnServer would otherwise switch them off).
  const server = await spawnServer({
    DATA_DIR: dataDir,
    ADMIN_TOKEN: adminToken,
    // info: spawnServer learns the URL from the 'listening' line.
    LOG_LEVEL: 'info',
    TRUSTED_PROXIES: '127.0.0.1',
    RATE_LIMIT_HOLDS_PER_MINUTE: String(holdsPerMinute),
    RATE_LIMIT_CUSTOMER_HOLDS_PER_MINUTE: String(DEFAULT_HOLDS_PER_CUSTOMER_PER_MINUTE),
  });
  await createClient({ url: server.url, adminToken }).createShow({
    id: 'abuse',
    title: 'On-sale',
    city: 'Pune',
    venue: 'Stadium',
    startsAt: '2026-12-01T19:30:00+05:30',
    categories: [{ id: 'std', price: 10_000, currency: 'INR' }],
    layout: {
      sections: [
        { id: 'main', rows: Array.from({ length: ROWS }, (_, r) => ({ label: `R${r + 1}`, seats: SEATS_PER_ROW, category: 'std' })) },
      ],
    },
  });
  return { server, adminToken, dataDir };
}

interface PhaseRow {
  phase: string;
  holdsPerAddressPerMinute: number;
  seconds: number;
  legitCyclesPerSec: number;
  legitP50Ms: number;
  legitP99Ms: number;
  legit429: number;
  legitSeatUnavailable: number;
  legitOtherErrors: number;
  attackerRequestsPerSec: number | null;
  attackerHolds: number | null;
  attackerSeatsHeld: number | null;
  attacker429: number | null;
  /** Seconds the attack ran before its first refusal (its opening burst), before measuring. */
  attackerBurstSeconds: number | null;
}

async function withServer<T>(holdsPerMinute: number, fn: (base: string) => Promise<T>): Promise<T> {
  const { server, dataDir } = await startSeatServer(holdsPerMinute);
  try {
    return await fn(server.url);
  } finally {
    await server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(opts: AttackerBenchOptions): Promise<BenchOutcome> {
  const { seconds: PHASE_SECONDS, legit: LEGIT, attackers: ATTACKERS, addresses: ADDRESSES, rounds: ROUNDS } = opts;
  const agent = new Agent({ keepAlive: true, maxSockets: LEGIT + ATTACKERS + 4 });

  // Raw HTTP on purpose: every request names its own X-Forwarded-For and a 429 is counted, not retried.
  function call(base: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        `${base}${path}`,
        {
          method,
          agent,
          headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  const legitAddress = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

  /** One fan: hold two seats side by side from its current address, release them, again. */
  async function legitLoop(base: string, id: number, until: number, stats: LegitStats): Promise<void> {
    let n = id;
    while (Date.now() < until) {
      const headers = { 'x-forwarded-for': legitAddress((n += LEGIT) % ADDRESSES) };
      const started = performance.now();
      const hold = await call(base, 'POST', '/v1/shows/abuse/holds', headers, { count: 2 });
      if (hold.status !== 201) {
        if (hold.status === 429) stats.refused429++;
        else if (hold.body?.error?.code === 'SEAT_UNAVAILABLE') stats.unavailable++;
        else stats.otherErrors++;
        continue;
      }
      const release = await call(base, 'DELETE', `/v1/shows/abuse/holds/${hold.body.holdId}`, {
        ...headers,
        'hold-token': hold.body.holdToken,
      });
      if (release.status !== 204) {
        stats.otherErrors++;
        continue;
      }
      stats.cycles++;
      stats.latenciesMs.push(performance.now() - started);
    }
  }

  /** The abuser: holds of 10 seats as fast as answers come, never released. */
  async function attackLoop(base: string, stop: () => boolean, stats: AttackStats, onRefused: () => void): Promise<void> {
    while (!stop()) {
      const r = await call(base, 'POST', '/v1/shows/abuse/holds', { 'x-forwarded-for': ATTACKER_ADDRESS }, { count: 10 });
      stats.requests++;
      if (r.status === 201) stats.holds++;
      else {
        if (r.status === 429) stats.refused429++;
        else if (r.body?.error?.code === 'SEAT_UNAVAILABLE') stats.unavailable++;
        onRefused();
      }
    }
  }

  async function phase(name: string, base: string, holdsPerMinute: number, attack: boolean): Promise<PhaseRow> {
    const legit: LegitStats = { cycles: 0, refused429: 0, unavailable: 0, otherErrors: 0, latenciesMs: [] };
    const attacker: AttackStats = { holds: 0, refused429: 0, unavailable: 0, requests: 0 };
    let stopAttack = false;
    let attackers: Promise<void>[] = [];
    let burstSeconds: number | null = null;
    const attackStart = Date.now();
    if (attack) {
      const burstStart = attackStart;
      let refused!: () => void;
      const firstRefusal = new Promise<void>((r) => (refused = r));
      attackers = Array.from({ length: ATTACKERS }, () => attackLoop(base, () => stopAttack, attacker, refused));
      await Promise.race([firstRefusal, new Promise((r) => setTimeout(r, BURST_MAX_MS))]);
      burstSeconds = (Date.now() - burstStart) / 1_000;
    }
    const started = Date.now();
    const until = started + PHASE_SECONDS * 1_000;
    await Promise.all(Array.from({ length: LEGIT }, (_, i) => legitLoop(base, i, until, legit)));
    const seconds = (Date.now() - started) / 1_000;
    stopAttack = true;
    await Promise.all(attackers);
    const attackSeconds = (Date.now() - attackStart) / 1_000;
    return {
      phase: name,
      holdsPerAddressPerMinute: holdsPerMinute,
      seconds,
      legitCyclesPerSec: legit.cycles / seconds,
      legitP50Ms: percentile(legit.latenciesMs, 50),
      legitP99Ms: percentile(legit.latenciesMs, 99),
      legit429: legit.refused429,
      legitSeatUnavailable: legit.unavailable,
      legitOtherErrors: legit.otherErrors,
      attackerRequestsPerSec: attack ? attacker.requests / attackSeconds : null,
      attackerHolds: attack ? attacker.holds : null,
      attackerSeatsHeld: attack ? attacker.holds * 10 : null,
      attacker429: attack ? attacker.refused429 : null,
      attackerBurstSeconds: burstSeconds,
    };
  }

  const limit = DEFAULT_HOLDS_PER_ADDRESS_PER_MINUTE;
  const rows: PhaseRow[] = [];
  const alone: PhaseRow[] = [];
  const attackedRows: PhaseRow[] = [];
  // A fresh server per phase: the attacker's holds and its spent budget do not carry over.
  for (let r = 1; r <= ROUNDS; r++) {
    alone.push(await withServer(limit, (base) => phase(`legit alone #${r}`, base, limit, false)));
    attackedRows.push(await withServer(limit, (base) => phase(`legit + attacker, limits on #${r}`, base, limit, true)));
    rows.push(alone[alone.length - 1], attackedRows[attackedRows.length - 1]);
  }
  const unprotected = await withServer(0, (base) => phase('legit + attacker, limits off', base, 0, true));
  rows.push(unprotected);
  agent.destroy();

  const baselineRate = median(alone.map((x) => x.legitCyclesPerSec));
  const attackedRate = median(attackedRows.map((x) => x.legitCyclesPerSec));
  const attacked = attackedRows[attackedRows.length - 1];
  const share = attackedRate / baselineRate;
  const f = (n: number | null, d = 0) => (n === null ? '-' : formatNumber(n, d));
  console.log(
    renderTable(
      [
        'phase',
        'holds/addr/min',
        'legit cycles/s',
        'p50 ms',
        'p99 ms',
        'legit 429',
        'legit 409',
        'attacker req/s',
        'attacker seats',
        'attacker 429',
        'burst s',
      ],
      rows.map((r) => [
        r.phase,
        r.holdsPerAddressPerMinute === 0 ? 'off' : r.holdsPerAddressPerMinute,
        f(r.legitCyclesPerSec),
        f(r.legitP50Ms, 1),
        f(r.legitP99Ms, 1),
        r.legit429,
        r.legitSeatUnavailable,
        f(r.attackerRequestsPerSec),
        f(r.attackerSeatsHeld),
        f(r.attacker429),
        f(r.attackerBurstSeconds, 1),
      ]),
    ),
  );
  const pass = share >= REQUIRED_SHARE;
  console.log(
    `\nlegitimate throughput under attack (median of ${ROUNDS}): ${formatNumber(attackedRate)} vs ${formatNumber(baselineRate)} cycles/s alone = ${(share * 100).toFixed(1)} % of the baseline (required ≥ ${REQUIRED_SHARE * 100} %): ${pass ? 'ok' : 'FAILED'}`,
  );
  console.log(
    `without the limits the attacker held ${f(unprotected.attackerSeatsHeld)} of ${ROWS * SEATS_PER_ROW} seats; with them ${f(attacked.attackerSeatsHeld)}`,
  );
  const path = writeResults(
    'abuse-attacker',
    {
      when: new Date().toISOString(),
      settings: {
        phaseSeconds: PHASE_SECONDS,
        legitClients: LEGIT,
        attackerLoops: ATTACKERS,
        legitAddresses: ADDRESSES,
        seats: ROWS * SEATS_PER_ROW,
      },
      rows,
      legitCyclesPerSecAlone: baselineRate,
      legitCyclesPerSecUnderAttack: attackedRate,
      legitShareUnderAttack: share,
      requiredShare: REQUIRED_SHARE,
      pass,
    },
    opts.out,
  );
  console.log(`wrote ${path}`);
  return {
    failed: pass
      ? []
      : [
          {
            phase: 'legit + attacker, limits on',
            error: `legitimate throughput under attack ${(share * 100).toFixed(1)} % of the baseline, below ${REQUIRED_SHARE * 100} %`,
          },
        ],
  };
}
