import { Counter, Gauge, Histogram, type Metric } from 'prom-client';
import { registry } from '../../metrics.ts';

/**
 * Command and HTTP metrics on the process registry. Created once per process (get-or-create,
 * so several gateways in one test process and the other front doors can share them);
 * `recordCommand` is meant for every front door, not HTTP alone.
 */

function getOrCreate<T extends Metric>(name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

export interface NodeStats {
  activeShows: number;
  activeHolds: number;
}

const statsSources = new Set<() => NodeStats>();

function sumStats(pick: (s: NodeStats) => number): number {
  let total = 0;
  for (const source of statsSources) total += pick(source());
  return total;
}

const commandsTotal = getOrCreate(
  'seat_commands_total',
  () =>
    new Counter({
      name: 'seat_commands_total',
      help: 'Seat commands by outcome (ok or the error code)',
      labelNames: ['command', 'outcome'],
      registers: [registry],
    }),
);

const commandSeconds = getOrCreate(
  'seat_command_duration_seconds',
  () =>
    new Histogram({
      name: 'seat_command_duration_seconds',
      help: 'Time to answer a seat command',
      labelNames: ['command'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
);

const httpRequests = getOrCreate(
  'http_requests_total',
  () =>
    new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
);

getOrCreate(
  'seat_active_holds',
  () =>
    new Gauge({
      name: 'seat_active_holds',
      help: 'Holds alive in the shows this process owns',
      registers: [registry],
      collect() {
        this.set(sumStats((s) => s.activeHolds));
      },
    }),
);

getOrCreate(
  'seat_active_shows',
  () =>
    new Gauge({
      name: 'seat_active_shows',
      help: 'Shows with an actor in memory in this process',
      registers: [registry],
      collect() {
        this.set(sumStats((s) => s.activeShows));
      },
    }),
);

// Label lookups hash their values every call; the label sets are few, so keep the children.
type Inc = { inc(): void };
type Observe = { observe(v: number): void };
const commandChildren = new Map<string, Inc>();
const durationChildren = new Map<string, Observe>();
const httpChildren = new Map<string, Inc>();

/** Counts one command and its latency. `outcome` is `ok` or the error code. */
export function recordCommand(command: string, outcome: string, seconds: number): void {
  const key = `${command}\n${outcome}`;
  let counter = commandChildren.get(key);
  if (!counter) commandChildren.set(key, (counter = commandsTotal.labels(command, outcome)));
  counter.inc();
  let histogram = durationChildren.get(command);
  if (!histogram) durationChildren.set(command, (histogram = commandSeconds.labels(command)));
  histogram.observe(seconds);
}

export function recordHttpRequest(method: string, route: string, status: number): void {
  const key = `${method}\n${route}\n${status}`;
  let counter = httpChildren.get(key);
  if (!counter) httpChildren.set(key, (counter = httpRequests.labels(method, route, String(status))));
  counter.inc();
}

/** Adds a node whose holds and shows the gauges report. Returns a remover. */
export function addStatsSource(source: () => NodeStats): () => void {
  statsSources.add(source);
  return () => statsSources.delete(source);
}
