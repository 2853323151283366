import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, type Metric } from 'prom-client';
import { asSeatError } from '../errors.ts';
import { registry } from '../metrics.ts';
import { ShowLabels } from './show-labels.ts';
import type { ShowState } from './show-state.ts';
import type { ShowEvent, ShowEventType } from './types.ts';

/**
 * Metrics of the show actors on the process registry: committed events (per show, with a
 * bounded label set), event-log append latency and failures, hold expiry lag, mailbox depth.
 * Module scope and get-or-create, so several hosts in one process share them.
 */

function getOrCreate<T extends Metric>(name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** Every event type, compiler-checked, so an evicted show's series can all be removed. */
const EVENT_TYPES = Object.keys({
  ShowCreated: true,
  SeatsHeld: true,
  HoldExtended: true,
  HoldReleased: true,
  HoldExpired: true,
  BookingConfirmed: true,
  BookingCancelled: true,
  SeatsBlocked: true,
  SeatsUnblocked: true,
  ShowCancelled: true,
  ShowChanged: true,
  EndedForgotten: true,
} satisfies Record<ShowEventType, true>) as ShowEventType[];

const eventsCommitted = getOrCreate(
  'seat_events_committed_total',
  () =>
    new Counter({
      name: 'seat_events_committed_total',
      help: 'Events committed to the log by the shows this process owns, by show (the first 200 distinct shows, then "other") and event type',
      labelNames: ['show', 'type'],
      registers: [registry],
    }),
);

const appendSeconds = getOrCreate(
  'seat_log_append_duration_seconds',
  () =>
    new Histogram({
      name: 'seat_log_append_duration_seconds',
      help: 'Time for one batch append to the event log (success or failure)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
);

const appendErrors = getOrCreate(
  'seat_log_append_errors_total',
  () =>
    new Counter({
      name: 'seat_log_append_errors_total',
      help: 'Failed event-log appends by error code (NOT_OWNER: fenced by a newer owner; INVALID_ARGUMENT: entry refused as too big; others: the log is failing)',
      labelNames: ['code'],
      registers: [registry],
    }),
);

const expiryLagSeconds = getOrCreate(
  'seat_hold_expiry_lag_seconds',
  () =>
    new Histogram({
      name: 'seat_hold_expiry_lag_seconds',
      help: "Time from a hold's deadline to the decision that expired it",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
);

/** What the mailbox gauges read from an actor host. */
export interface MailboxSource {
  readonly activeShowIds: string[];
  actorLoad(showId: string): { mailbox: number } | null;
}

// Weak: a host nobody closes (tests) must not be kept alive by its metrics.
const hosts = new Set<WeakRef<MailboxSource>>();

function mailboxDepths(): { sum: number; max: number } {
  let sum = 0;
  let max = 0;
  for (const ref of hosts) {
    const host = ref.deref();
    if (!host) {
      hosts.delete(ref);
      continue;
    }
    for (const showId of host.activeShowIds) {
      const depth = host.actorLoad(showId)?.mailbox ?? 0;
      sum += depth;
      if (depth > max) max = depth;
    }
  }
  return { sum, max };
}

getOrCreate(
  'seat_mailbox_commands',
  () =>
    new Gauge({
      name: 'seat_mailbox_commands',
      help: 'Commands waiting in the mailboxes of every show in this process',
      registers: [registry],
      collect() {
        this.set(mailboxDepths().sum);
      },
    }),
);

getOrCreate(
  'seat_mailbox_commands_max',
  () =>
    new Gauge({
      name: 'seat_mailbox_commands_max',
      help: 'Commands waiting in the deepest show mailbox of this process (callers get UNAVAILABLE at the mailbox cap)',
      registers: [registry],
      collect() {
        this.set(mailboxDepths().max);
      },
    }),
);

/** Lets the mailbox gauges read this host (held weakly). */
export function trackActorHost(host: MailboxSource): void {
  hosts.add(new WeakRef(host));
}

type Inc = { inc(n?: number): void };
/** Counter children by label value, then event type (label lookups hash on every call). */
const children = new Map<string, Map<ShowEventType, Inc>>();
const showLabels = new ShowLabels(undefined, undefined, (showId) => {
  children.delete(showId);
  for (const type of EVENT_TYPES) eventsCommitted.remove({ show: showId, type });
});

/** Counts a committed batch's events by type under the show's (bounded) label. */
export function recordCommitted(showId: string, events: readonly ShowEvent[], now: number): void {
  const show = showLabels.labelOf(showId, now);
  let byType = children.get(show);
  if (!byType) children.set(show, (byType = new Map()));
  // Count first: a batch is mostly one or two types, so a handful of increments per batch.
  const counts = new Map<ShowEventType, number>();
  for (const e of events) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
  for (const [type, n] of counts) {
    let child = byType.get(type);
    if (!child) byType.set(type, (child = eventsCommitted.labels(show, type)));
    child.inc(n);
  }
}

/** Observes how late a hold is expired; call before the HoldExpired event is applied (the hold is still in `state`). */
export function observeExpiryLag(state: ShowState | null, holdId: string, now: number): void {
  const hold = state?.holds.get(holdId);
  if (hold) expiryLagSeconds.observe(Math.max(0, now - hold.expiresAt) / 1000);
}

/** Runs one event-log append, timing it and counting its failure by code. */
export async function timedAppend<T>(append: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await append();
  } catch (err) {
    appendErrors.inc({ code: asSeatError(err).code });
    throw err;
  } finally {
    appendSeconds.observe((performance.now() - started) / 1000);
  }
}
