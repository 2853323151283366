import type { TestCluster } from '../../cluster.ts';
import type { PrivateServices } from '../../private-services.ts';

/** What a fault may touch: the private servers and the cluster's processes. */
export interface ChaosContext {
  cluster: TestCluster;
  services: PrivateServices;
  /** A live worker's index in `cluster.workers` (the one the fault hits). */
  victim(): number;
  log(msg: string): void;
}

/** What an injected fault hands back: how to end it, and what it observed for the report. */
export interface InjectedFault {
  /** Ends the fault (restart, resume); resolves once the broken part is back (not the whole cluster). */
  heal(): Promise<void>;
  /** Place the hold probes on shows this worker owns (the fault's subject), not on any. */
  probeOwner?: string;
  /** Fault-specific observations (e.g. whether a duplicate NODE_ID was refused), read after heal. */
  notes?(): Promise<Record<string, unknown>> | Record<string, unknown>;
}

/**
 * One fault of the suite. The runner starts customers, calls `inject`, waits `holdMs`, calls
 * `heal`, lets the cluster settle, then checks the promises. One file per fault.
 */
export interface Fault {
  /** Stable key (CLI --faults, results JSON). */
  name: string;
  /** What it does, for the table. */
  summary: string;
  /** How long the fault lasts before `heal`. */
  holdMs: number;
  inject(ctx: ChaosContext): Promise<InjectedFault>;
}
