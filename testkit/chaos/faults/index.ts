import { clockSkew, clockSkewOwner } from './clock-skew.ts';
import { duplicateNodeId } from './duplicate-node-id.ts';
import type { Fault } from './fault.ts';
import { natsKill } from './nats-kill.ts';
import { postgresStop } from './postgres-stop.ts';
import { redisKill } from './redis-kill.ts';
import { workerKillRestart } from './worker-kill-restart.ts';
import { workerPause } from './worker-pause.ts';

export type { ChaosContext, Fault, InjectedFault } from './fault.ts';

/** Every fault, in the order the suite runs them. */
export const ALL_FAULTS: Fault[] = [
  redisKill,
  postgresStop,
  natsKill,
  clockSkew,
  clockSkewOwner,
  duplicateNodeId,
  workerPause,
  workerKillRestart,
];
