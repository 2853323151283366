import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The metric names the Grafana dashboard and the Prometheus alert rules use, read loosely from
 * their PromQL: identifiers with the project's prefixes (`seat_`, `seats_`, `http_`) and the
 * default Node metrics (`nodejs_`, `process_`); quoted label values are left out.
 */

export const ROOT = join(import.meta.dirname, '..', '..');
export const DASHBOARD = join(ROOT, 'deploy/grafana/dashboards/seat-inventory.json');
export const ALERTS = join(ROOT, 'deploy/prometheus/alerts.yml');
const METRIC_NAME = /(?<![A-Za-z0-9_:])(?:seats?|http|nodejs|process)_[A-Za-z0-9_:]*/g;
/** A histogram's series: `<name>_bucket`, `<name>_sum`, `<name>_count`. */
export const HISTOGRAM_SERIES = /^(.*)_(bucket|sum|count)$/;

/** Metric names in a PromQL expression (quoted label values left out). */
export function metricNames(expr: string): string[] {
  const unquoted = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  return [...unquoted.matchAll(METRIC_NAME)].map((m) => m[0]);
}

/** Every `expr`, and every templating `query`/`definition`, anywhere in the dashboard JSON. */
export function dashboardExprs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) dashboardExprs(n, out);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (typeof value === 'string' && (key === 'expr' || key === 'query' || key === 'definition')) out.push(value);
      else dashboardExprs(value, out);
    }
  }
  return out;
}

/** The `expr:` values of a rules file: one line, or a `|`/`>` block of deeper-indented lines. */
export function ruleExprs(yaml: string): string[] {
  const lines = yaml.split('\n');
  const exprs: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]);
    if (!m) continue;
    const [, indent, rest] = m;
    if (!/^[|>][-+]?\s*$/.test(rest)) {
      exprs.push(rest);
      continue;
    }
    const block: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1].trim() === '' || lines[i + 1].search(/\S/) > indent.length)) block.push(lines[++i]);
    exprs.push(block.join('\n'));
  }
  return exprs;
}

/** The expressions of the shipped dashboard and alert rules. */
export function deployedExprs(): { dashboard: string[]; rules: string[] } {
  return {
    dashboard: dashboardExprs(JSON.parse(readFileSync(DASHBOARD, 'utf8'))),
    rules: ruleExprs(readFileSync(ALERTS, 'utf8')),
  };
}
