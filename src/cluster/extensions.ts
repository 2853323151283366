import { startClusterTakeover } from './takeover.ts';
import type { WorkerExtension } from './worker.ts';

/** Takeover, handover and the expiry index. */
export const takeoverExtension: WorkerExtension = async (ctx) => {
  const takeover = await startClusterTakeover({
    host: ctx.node.host,
    storage: ctx.storage,
    placement: ctx.placement,
    redis: ctx.redis,
    nc: ctx.nc,
    logger: ctx.logger.child({ nodeId: ctx.nodeId }),
    config: { clusterPrefix: ctx.config.clusterPrefix, passivateAfterMs: ctx.config.passivateAfterMs },
  });
  ctx.node.addCommitListener((batch) => takeover.commitListener(batch));
  return { afterLeave: () => takeover.handOverAll(), close: () => takeover.close() };
};

/**
 * Extensions every worker process runs (warm replicas, takeover and handover, the hold
 * expiry index). Each gets the worker's parts once they exist and before it joins the
 * ring; see WorkerContext in worker.ts.
 */
export const workerExtensions: WorkerExtension[] = [takeoverExtension];
