import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { registry } from '../../src/metrics.ts';
import { HISTOGRAM_SERIES, ROOT, deployedExprs, metricNames, ruleExprs } from '../support/dashboard-metrics.ts';

/**
 * Every metric the Grafana dashboard and the Prometheus alert rules use must exist in
 * `/metrics`: `_bucket`/`_sum`/`_count` map to their histogram, and each name is looked up in
 * the process registry after importing every module that defines metrics.
 */

/** Imports every source module that creates metrics, so the registry holds all of them. */
async function importMetricModules(): Promise<string[]> {
  const src = join(ROOT, 'src');
  const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  const defining = files.filter((f) => readFileSync(join(src, f), 'utf8').includes("from 'prom-client'"));
  for (const f of defining) await import(pathToFileURL(join(src, f)).href);
  return defining;
}

/** Names used in `exprs` that the registry does not serve. */
async function missingMetrics(exprs: string[]): Promise<string[]> {
  const registered = new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
  const missing = new Set<string>();
  for (const expr of exprs) {
    for (const name of metricNames(expr)) {
      if (registered.has(name)) continue;
      const series = HISTOGRAM_SERIES.exec(name);
      const type = series ? registered.get(series[1]) : undefined;
      if (type === 'histogram' || (type === 'summary' && series?.[2] !== 'bucket')) continue;
      missing.add(name);
    }
  }
  return [...missing].sort();
}

describe('dashboard and alert metrics', () => {
  it('every metric the dashboard and the alert rules use is registered', async () => {
    const modules = await importMetricModules();
    assert.ok(modules.length >= 6, `found the metric modules: ${modules.join(', ')}`);
    const { dashboard, rules } = deployedExprs();
    assert.ok(dashboard.filter((e) => metricNames(e).length).length >= 20, 'the dashboard queries were read');
    assert.ok(rules.length >= 8, 'the alert rules were read');
    for (const expr of rules) assert.ok(metricNames(expr).length || expr.includes('up{'), `rule expression names a metric: ${expr}`);
    assert.deepEqual(await missingMetrics([...dashboard, ...rules]), []);
  });

  it('would catch a made-up name, a histogram suffix on a counter, and is not fooled by label values', async () => {
    await importMetricModules();
    assert.deepEqual(
      await missingMetrics([
        'sum(rate(seat_made_up_total[5m]))',
        'histogram_quantile(0.99, rate(seat_command_duration_seconds_bucket[5m]))',
        'rate(seat_commands_total_bucket[5m])',
        'seat_commands_total{outcome="seat_not_a_metric_either"}',
      ]),
      ['seat_commands_total_bucket', 'seat_made_up_total'],
    );
  });

  it('reads one-line and block rule expressions', () => {
    const yaml = [
      '      - alert: A',
      '        expr: up == 0',
      '      - alert: B',
      '        expr: |',
      '          sum(seat_a)',
      '            / sum(seat_b) > 1',
      '        for: 1m',
    ].join('\n');
    assert.deepEqual(ruleExprs(yaml).map(metricNames), [[], ['seat_a', 'seat_b']]);
  });
});
