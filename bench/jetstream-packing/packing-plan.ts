/**
 * The pure part of the JetStream packing bench: how N logical show batches become messages
 * for a packing factor k, on how many fenced subjects, and what each batch's bytes are.
 */

export interface PackingPlan {
  k: number;
  /** Messages to publish: ceil(batches / k), the last one holding the remainder. */
  messages: number;
  /**
   * Fenced subjects the messages go round-robin over. Each subject takes one append at a
   * time (its next append names the seq the previous one got), so at most this many are in
   * flight: k = 1 uses one subject per show, k > 1 one per simulated worker, as many workers
   * as `inFlight` needs.
   */
  subjects: number;
  /** Messages that can be outstanding at once: min(inFlight, subjects, messages). */
  inFlight: number;
}

export function planPacking(batches: number, k: number, shows: number, inFlight: number): PackingPlan {
  const messages = Math.ceil(batches / k);
  const subjects = Math.max(1, Math.min(k === 1 ? shows : inFlight, messages));
  return { k, messages, subjects, inFlight: Math.min(inFlight, subjects, messages) };
}

/** The logical batches [first, end) message `m` of a plan holds. */
export function batchesOfMessage(m: number, k: number, batches: number): [first: number, end: number] {
  return [m * k, Math.min(batches, (m + 1) * k)];
}

/**
 * One logical batch as JSON of about `bytes` bytes, shaped like a one-command show batch
 * (an id, the show, its first version, one event), padded to size.
 */
export function batchJson(batchId: string, showId: string, firstVersion: number, bytes: number): string {
  const head = `{"batchId":"${batchId}","showId":"${showId}","firstVersion":${firstVersion},"events":[{"type":"SeatsHeld","seats":["A-1"],"pad":"`;
  const tail = '"}]}';
  return `${head}${'x'.repeat(Math.max(0, bytes - head.length - tail.length))}${tail}`;
}

/** A message's body: the batch itself for k = 1, a JSON array of the batches for k > 1. */
export function messageBody(batchJsons: readonly string[], k: number): string {
  return k === 1 ? batchJsons[0] : `[${batchJsons.join(',')}]`;
}
