import { Counter, Gauge, type Metric } from 'prom-client';
import { registry } from '../metrics.ts';
import type { PlacementChange } from './placement.ts';

/**
 * Who owns what, on the process registry: shows this worker owns and runs, shows it took
 * over or handed over on ring changes, and the ring as this process sees it (workers and
 * gateways alike), so a gateway that sees no worker (no owner for any show) is visible.
 */

function getOrCreate<T extends Metric>(name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** Shows a worker activated from its warm copy because the ring made it their owner. */
export const showsTakenOver = getOrCreate(
  'seat_cluster_shows_taken_over_total',
  () =>
    new Counter({
      name: 'seat_cluster_shows_taken_over_total',
      help: 'Shows this worker activated from a warm copy after the ring made it their owner (failover or rebalance)',
      registers: [registry],
    }),
);

/** Shows a worker drained, snapshotted and stopped because another node now owns them. */
export const showsHandedOver = getOrCreate(
  'seat_cluster_shows_handed_over_total',
  () =>
    new Counter({
      name: 'seat_cluster_shows_handed_over_total',
      help: 'Shows this worker handed over to their new owner after a ring change',
      registers: [registry],
    }),
);

const ringMembers = getOrCreate(
  'seat_cluster_ring_members',
  () =>
    new Gauge({
      name: 'seat_cluster_ring_members',
      help: 'Live workers in the ring as this process sees it (0: no show has an owner)',
      registers: [registry],
    }),
);

const ringDepartures = getOrCreate(
  'seat_cluster_ring_departures_total',
  () =>
    new Counter({
      name: 'seat_cluster_ring_departures_total',
      help: 'Workers that left the ring as this process saw it (died, lapsed or left gracefully)',
      registers: [registry],
    }),
);

/** Call on every ring change this process sees. */
export function recordRingChange(change: PlacementChange): void {
  ringMembers.set(change.after.length);
  const departed = change.before.filter((m) => !change.after.includes(m)).length;
  if (departed) ringDepartures.inc(departed);
}

/** What the owned-shows gauge reads from a worker. */
export interface OwnedShowsSource {
  readonly activeShowIds: string[];
}
export interface OwnerSource {
  readonly selfId: string | null;
  owner(showId: string): string | null;
}

const owners = new Set<{ host: OwnedShowsSource; placement: OwnerSource }>();

getOrCreate(
  'seat_cluster_owned_shows',
  () =>
    new Gauge({
      name: 'seat_cluster_owned_shows',
      help: 'Shows running on this worker that the ring says it owns (a passivated show it owns is not counted)',
      registers: [registry],
      collect() {
        let owned = 0;
        for (const { host, placement } of owners)
          for (const id of host.activeShowIds) if (placement.owner(id) === placement.selfId) owned++;
        this.set(owned);
      },
    }),
);

/** Counts this worker's owned shows in `seat_cluster_owned_shows`. Returns a remover. */
export function trackOwnedShows(host: OwnedShowsSource, placement: OwnerSource): () => void {
  const entry = { host, placement };
  owners.add(entry);
  return () => owners.delete(entry);
}
