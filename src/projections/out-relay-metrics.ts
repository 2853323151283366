import { Counter, Gauge } from 'prom-client';
import { registry } from '../metrics.ts';

function getOrCreate<T>(name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** What the gauges read from each live relay of the process. */
export interface RelayDepthSource {
  readonly sinkName: string;
  /** Batches (and repairs) waiting for delivery, across shows. */
  readonly queuedJobs: number;
}

const relays = new Set<WeakRef<RelayDepthSource>>();

getOrCreate(
  'seats_out_events_queued',
  () =>
    new Gauge({
      name: 'seats_out_events_queued',
      help: 'Committed batches whose out-events wait for delivery (JetStream or webhook), by sink',
      labelNames: ['sink'] as const,
      registers: [registry],
      collect() {
        this.reset();
        const bySink = new Map<string, number>();
        for (const ref of relays) {
          const r = ref.deref();
          if (!r) {
            relays.delete(ref);
            continue;
          }
          bySink.set(r.sinkName, (bySink.get(r.sinkName) ?? 0) + r.queuedJobs);
        }
        for (const [sink, n] of bySink) this.set({ sink }, n);
      },
    }),
);

export const outEventsDelivered = getOrCreate(
  'seats_out_events_delivered_total',
  () =>
    new Counter({
      name: 'seats_out_events_delivered_total',
      help: 'Out-events accepted by their sink (a repeat counts again)',
      labelNames: ['sink'] as const,
      registers: [registry],
    }),
) as Counter<'sink'>;

export const outEventsFailures = getOrCreate(
  'seats_out_events_failures_total',
  () =>
    new Counter({
      name: 'seats_out_events_failures_total',
      help: 'Out-event deliveries that failed and will be retried',
      labelNames: ['sink'] as const,
      registers: [registry],
    }),
) as Counter<'sink'>;

export const outEventsRepairs = getOrCreate(
  'seats_out_events_repairs_total',
  () =>
    new Counter({
      name: 'seats_out_events_repairs_total',
      help: 'Log tails re-read at activation (or after a queue overflow) to re-deliver out-events',
      labelNames: ['sink'] as const,
      registers: [registry],
    }),
) as Counter<'sink'>;

/** Lets the queue gauge read this relay (held weakly). */
export function trackRelay(relay: RelayDepthSource): void {
  relays.add(new WeakRef(relay));
}
