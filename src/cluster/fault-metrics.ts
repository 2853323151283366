import { Gauge, type Metric } from 'prom-client';
import type { OwnerCheckResult } from '../actors/show-actor.ts';
import { registry } from '../metrics.ts';

/** What a worker reports about running degraded (read at every scrape). */
export interface FaultStats {
  servingThroughOutage: boolean;
  activations: number;
  ownerChecks: Record<OwnerCheckResult, number>;
}

let source: (() => FaultStats) | null = null;

function getOrCreate<T extends Metric>(name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

getOrCreate(
  'seat_cluster_serving_through_outage',
  () =>
    new Gauge({
      name: 'seat_cluster_serving_through_outage',
      help: '1 while this worker cannot reach Redis and serves its shows on the frozen ring',
      registers: [registry],
      collect() {
        const s = source?.();
        if (s) this.set(s.servingThroughOutage ? 1 : 0);
      },
    }),
);

getOrCreate(
  'seat_show_activations',
  () =>
    new Gauge({
      name: 'seat_show_activations',
      help: 'Shows loaded into memory (snapshot or warm copy, then the log) since this worker started',
      registers: [registry],
      collect() {
        const s = source?.();
        if (s) this.set(s.activations);
      },
    }),
);

getOrCreate(
  'seat_show_owner_checks',
  () =>
    new Gauge({
      name: 'seat_show_owner_checks',
      help: 'Answers from memory checked against the log since start, by result (same, moved, failed)',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        const s = source?.();
        if (!s) return;
        for (const [result, n] of Object.entries(s.ownerChecks)) this.labels(result).set(n);
      },
    }),
);

/** Points the fault metrics at this process's worker (one worker per process). */
export function watchFaultStats(fn: () => FaultStats): () => void {
  source = fn;
  return () => {
    if (source === fn) source = null;
  };
}
