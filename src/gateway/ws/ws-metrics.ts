import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../../metrics.ts';

/**
 * WebSocket metrics on the process registry. Created once per process (module scope) so
 * several gateways in one process (tests) share them instead of registering twice.
 */
export const wsMetrics = {
  sockets: new Gauge({ name: 'seats_ws_sockets', help: 'Open WebSocket connections', registers: [registry] }),
  channels: new Gauge({ name: 'seats_ws_show_channels', help: 'Shows with at least one WebSocket watcher', registers: [registry] }),
  framesSent: new Counter({
    name: 'seats_ws_frames_sent_total',
    help: 'Frames sent to WebSocket clients',
    labelNames: ['type'] as const,
    registers: [registry],
  }),
  slowConsumers: new Counter({
    name: 'seats_ws_slow_consumer_total',
    help: 'Slow-consumer events: skipped (a delta not sent over the buffer cap), resynced (sent a snapshot after draining), terminated',
    labelNames: ['action'] as const,
    registers: [registry],
  }),
  resubscribes: new Counter({
    name: 'seats_ws_resubscribes_total',
    help: 'Resubscribes within the resnapshot window answered with deltas from the version the socket had, instead of a full snapshot',
    labelNames: ['outcome'] as const,
    registers: [registry],
  }),
  badFrames: new Counter({ name: 'seats_ws_bad_frames_total', help: 'Invalid client frames', registers: [registry] }),
  broadcastSeconds: new Histogram({
    name: 'seats_ws_broadcast_seconds',
    help: 'CPU time to hand one coalesced delta to every watcher of a show',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [registry],
  }),
  tickMs: new Gauge({ name: 'seats_ws_tick_ms', help: 'Current coalescing tick (stretches under load)', registers: [registry] }),
};
