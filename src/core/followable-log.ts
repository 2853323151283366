import type { EventLog } from './ports.ts';

/**
 * A log whose appends others can follow as they happen, without going through `read`: a
 * JetStream stream whose entries are published on `<subjectPrefix>.<show token>`. The warm
 * replica (src/cluster/replica-follower.ts) follows such a log; on any other (file, memory)
 * there are no warm copies.
 */
export interface FollowableLog extends EventLog {
  readonly stream: string;
  readonly subjectPrefix: string;
}

/** Whether the log can be followed (a capability check, so no caller needs the adapter's class). */
export function isFollowable(log: EventLog): log is FollowableLog {
  const l = log as Partial<FollowableLog>;
  return typeof l.stream === 'string' && typeof l.subjectPrefix === 'string';
}
