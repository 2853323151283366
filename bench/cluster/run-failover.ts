/**
 * The failover phase of bench:cluster alone; writes the `failover` key into the existing
 * bench/results/cluster.json.
 *
 *   node --import tsx bench/cluster/run-failover.ts [--rounds 3] [--shows 100]
 */
import { existsSync, readFileSync } from 'node:fs';
import { intArg, parseCli } from '../lib/args.ts';
import { runCli } from '../lib/cli.ts';
import { resultPath, writeJson } from '../lib/results.ts';
import { renderTable } from '../lib/table.ts';
import { runFailoverPhase } from './failover.ts';

runCli('bench:cluster failover', async () => {
  const values = parseCli({ rounds: { type: 'string' }, shows: { type: 'string' } });
  const { json, table } = await runFailoverPhase({
    rounds: intArg(values.rounds, 'rounds', 3, 1),
    shows: intArg(values.shows, 'shows', 100, 1),
  });
  const path = resultPath('cluster');
  const existing = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
  writeJson(path, { ...existing, failover: { when: new Date().toISOString(), ...json } });
  process.stdout.write(`${renderTable(table.headers, table.rows)}\nwrote ${path}\n`);
});
