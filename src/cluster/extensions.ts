import { takeoverExtension } from './takeover.ts';
import type { WorkerExtension } from './worker.ts';

/**
 * Extensions every worker process runs (warm replicas, takeover and handover, the hold
 * expiry index). Each gets the worker's parts once they exist and before it joins the
 * ring; see WorkerContext in worker.ts.
 */
export const workerExtensions: WorkerExtension[] = [takeoverExtension];
