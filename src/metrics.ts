import { Registry, collectDefaultMetrics } from 'prom-client';

/** The process's one Prometheus registry; every subsystem registers its metrics here. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

/** The registry in the Prometheus text format (the gateway's and the worker's /metrics). */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
