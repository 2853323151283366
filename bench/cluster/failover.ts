/**
 * Failover timing: clients hold and confirm on 100 shows through one gateway while a
 * worker of three is SIGKILLed; per show of the dead worker, the time from the kill to its
 * first successful command. Several rounds (a fresh worker joins between them, so each
 * kill starts from three). The promises are verified after the last round.
 *
 * Run by cluster-bench.ts (the `failover` key of bench/results/cluster.json), or alone by
 * run-failover.ts.
 */
import { createClient } from '../../src/client/index.ts';
import { startCluster } from '../../testkit/cluster.ts';
import { showInput } from '../../testkit/shows.ts';
import { SERVICE_URLS } from '../../testkit/services.ts';
import { formatNumber } from '../lib/table.ts';
import { failoverTimes, runLoad, seatLabels, verifyShows } from '../../testkit/cluster-load.ts';
import { percentile } from '../../testkit/percentile.ts';

// Enough seats that no show sells out during the run (a sold-out show has no successes left to time).
const ROWS = 10;
const PER_ROW = 20;

const until = async (check: () => boolean, timeoutMs: number, what: string) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

export interface FailoverRound {
  killed: string;
  affectedShows: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  neverRecovered: number;
}

export async function runFailoverPhase(opts: { rounds?: number; shows?: number } = {}) {
  const rounds = opts.rounds ?? 3;
  const showCount = opts.shows ?? 100;
  // startCluster switches the edge limits off: every client of this bench is 127.0.0.1.
  const cluster = await startCluster({ workers: 3, gateways: 1 });
  try {
    const seats = createClient({ url: cluster.gateways[0].url, adminToken: cluster.adminToken });
    const ids = Array.from({ length: showCount }, (_, i) => `fb-${i}`);
    for (const id of ids) {
      await seats.createShow(showInput(id, ROWS, PER_ROW));
    }
    const load = runLoad({ url: cluster.gateways[0].url }, ids, seatLabels(ROWS, PER_ROW));
    await until(() => ids.every((id) => (load.stats.successes.get(id)?.length ?? 0) >= 2), 60_000, 'load on every show');
    const results: FailoverRound[] = [];
    const allTimes: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const index = cluster.workers.findIndex((w) => w.alive);
      const victim = cluster.workers[index];
      const owners = await Promise.all(ids.map((id) => cluster.ownerOf(id)));
      const affected = ids.filter((_, i) => owners[i] === victim.nodeId);
      const killAt = Date.now();
      await cluster.killWorker(index, 'SIGKILL');
      await until(
        () => affected.every((id) => (load.stats.successes.get(id) ?? []).some((t) => t >= killAt)),
        60_000,
        'every affected show to recover',
      );
      const t = failoverTimes(load.stats, affected, killAt);
      for (const id of affected) {
        const first = (load.stats.successes.get(id) ?? []).find((x) => x >= killAt);
        if (first !== undefined) allTimes.push(first - killAt);
      }
      results.push({
        killed: victim.nodeId,
        affectedShows: affected.length,
        p50Ms: t.p50Ms,
        p99Ms: t.p99Ms,
        maxMs: t.maxMs,
        neverRecovered: t.neverRecovered,
      });
      process.stdout.write(
        `failover round ${round + 1}: ${affected.length} shows, p50 ${t.p50Ms} ms, p99 ${t.p99Ms} ms, max ${t.maxMs} ms\n`,
      );
      if (round < rounds - 1) {
        await cluster.addWorker();
        // Let the newcomer's replicas warm up before the next kill.
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
    load.stop();
    const stats = await load.done;
    const problems = await verifyShows(
      cluster.gateways[0].url,
      {
        natsUrl: SERVICE_URLS.nats,
        databaseUrl: cluster.databaseUrl,
        stream: cluster.stream,
        eventSubjectPrefix: cluster.eventSubjectPrefix,
      },
      ids,
      stats.confirmed,
    );
    const overall = {
      shows: allTimes.length,
      p50Ms: percentile(allTimes, 50),
      p99Ms: percentile(allTimes, 99),
      maxMs: Math.max(...allTimes),
    };
    const json = {
      setup: { workers: 3, gateways: 1, shows: showCount, loopsPerShow: 1, detection: 'member TTL 1,500 ms, heartbeat 250 ms (defaults)' },
      rounds: results,
      overall,
      commands: stats.commands,
      clientRetries: stats.retries,
      statuses: Object.fromEntries(stats.statuses),
      invariantProblems: problems,
    };
    const rows = results.map((r, i) => [
      `kill ${i + 1}`,
      r.affectedShows,
      formatNumber(r.p50Ms),
      formatNumber(r.p99Ms),
      formatNumber(r.maxMs),
      r.neverRecovered,
    ]);
    rows.push([
      'all',
      overall.shows,
      formatNumber(overall.p50Ms),
      formatNumber(overall.p99Ms),
      formatNumber(overall.maxMs),
      results.reduce((n, r) => n + r.neverRecovered, 0),
    ]);
    return { table: { headers: ['round', 'shows moved', 'p50 ms', 'p99 ms', 'max ms', 'never recovered'], rows }, json };
  } finally {
    await cluster.stop();
  }
}
