import { Counter, Gauge, type Metric } from 'prom-client';
import { registry } from '../metrics.ts';

function getOrCreate<T extends Metric>(name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** Op request messages a worker endpoint received (one message may carry many ops). */
export const endpointMessages = getOrCreate(
  'seat_cluster_endpoint_messages_total',
  () =>
    new Counter({
      name: 'seat_cluster_endpoint_messages_total',
      help: 'Op request messages received by this worker',
      registers: [registry],
    }),
);

/** Ops a worker endpoint ran or refused, by outcome (ok or the error code). */
export const endpointOps = getOrCreate(
  'seat_cluster_endpoint_ops_total',
  () =>
    new Counter({
      name: 'seat_cluster_endpoint_ops_total',
      help: 'Ops received by this worker, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
);

/** Request messages a gateway sent to owners, and the ops in them. */
export const routedMessages = getOrCreate(
  'seat_cluster_routed_messages_total',
  () => new Counter({ name: 'seat_cluster_routed_messages_total', help: 'Op request messages sent to owners', registers: [registry] }),
);
export const routedOps = getOrCreate(
  'seat_cluster_routed_ops_total',
  () => new Counter({ name: 'seat_cluster_routed_ops_total', help: 'Ops sent to owners (retries included)', registers: [registry] }),
);

/** Retries the gateway absorbed, by reason (the error code that caused it). */
export const routeRetries = getOrCreate(
  'seat_cluster_route_retries_total',
  () =>
    new Counter({
      name: 'seat_cluster_route_retries_total',
      help: 'Routed ops retried after a retryable failure, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
);

/** Messages of the hop that were one part of a larger whole (in: received, out: sent). */
export const hopParts = getOrCreate(
  'seat_cluster_hop_parts_total',
  () =>
    new Counter({
      name: 'seat_cluster_hop_parts_total',
      help: 'Hop messages sent or received as parts of a payload over max_payload',
      labelNames: ['direction'],
      registers: [registry],
    }),
);

/** Requests a gateway answered 503 because its NATS connection was down (in_flight: sent before it dropped). */
export const natsDownRefusals = getOrCreate(
  'seat_cluster_nats_down_refusals_total',
  () =>
    new Counter({
      name: 'seat_cluster_nats_down_refusals_total',
      help: 'Requests answered UNAVAILABLE while the NATS connection was down',
      labelNames: ['in_flight'],
      registers: [registry],
    }),
);

/** Ops a gateway failed over to a retry because its NATS connection dropped while they were out. */
export const natsDropRetries = getOrCreate(
  'seat_cluster_nats_drop_retries_total',
  () =>
    new Counter({
      name: 'seat_cluster_nats_drop_retries_total',
      help: 'Routed ops in flight when the NATS connection dropped',
      registers: [registry],
    }),
);

/** 1 while the gateway's NATS connection is up, 0 while it is lost and reconnecting. */
export const natsConnected = getOrCreate(
  'seat_cluster_nats_connected',
  () =>
    new Gauge({
      name: 'seat_cluster_nats_connected',
      help: 'Whether this gateway is connected to NATS (1) or not (0)',
      registers: [registry],
    }),
);

/** This worker's measured offset to the cluster's shared clock (Redis TIME), in ms (reference − local). */
export const clockOffsetMs = getOrCreate(
  'seat_cluster_clock_offset_ms',
  () =>
    new Gauge({
      name: 'seat_cluster_clock_offset_ms',
      help: 'Measured offset of this worker to the shared clock (Redis TIME), ms',
      registers: [registry],
    }),
);

/** 1 while the offset is beyond CLOCK_SKEW_MAX_MS (the worker then owns no shows), else 0. */
export const clockSkewed = getOrCreate(
  'seat_cluster_clock_skewed',
  () =>
    new Gauge({
      name: 'seat_cluster_clock_skewed',
      help: '1 while this worker refuses to own shows because its clock is skewed',
      registers: [registry],
    }),
);
