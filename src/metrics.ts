import { Registry, collectDefaultMetrics } from 'prom-client';

/** The process's one Prometheus registry; every subsystem registers its metrics here. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });
