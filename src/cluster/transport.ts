import type { MsgHdrs } from 'nats';
import { FRAME_HEADER_ROOM_BYTES, MIN_FRAME_BYTES, partHeaders, splitPayload } from './hop-frames.ts';

/**
 * Headers of one hop message. The part headers of a parted message (hop-frames.ts) are the
 * only ones the cluster sets; they are NATS headers on the wire, so the port carries the
 * same objects and the in-process transport passes them along untouched.
 */
export type HopHeaders = MsgHdrs;

/** One message as a subscriber receives it. */
export interface TransportMessage {
  readonly data: Uint8Array;
  readonly headers: HopHeaders | undefined;
  /** Answers a request; false when the message was not a request (nobody waits for an answer). */
  respond(data: Uint8Array): boolean;
}

/** Why a request got no answer. Both are retryable: the router re-reads the ring and tries again. */
export type TransportFailure = 'no-responders' | 'timeout';

/** A request that got no answer: nobody serves the subject, or no answer came in time. */
export class TransportError extends Error {
  override name = 'TransportError';
  constructor(
    readonly failure: TransportFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * How the cluster's processes talk: command requests to a worker's subject, results back on a
 * gateway's inbox, and membership announcements. Core NATS in production (NatsTransport); an
 * in-process bus in unit tests (in-process/transport.ts), with faults under the test's control.
 *
 * Contract: at-most-once delivery, per-sender order on one subject; a message is delivered to
 * every plain subscriber and to one member of each queue group. `request` rejects with
 * TransportError: 'no-responders' when nobody serves the subject (at once), 'timeout' when no
 * answer came within `timeoutMs`. Handlers run on the event loop, one message at a time.
 */
export interface ClusterTransport {
  /** Largest payload one message may carry right now (bytes). */
  maxPayload(): number;
  /** A fresh subject only this process listens on. */
  newInbox(): string;
  publish(subject: string, data: Uint8Array, headers?: HopHeaders): void;
  request(subject: string, data: Uint8Array, opts: { timeoutMs: number; headers?: HopHeaders }): Promise<Uint8Array>;
  /** Listens on `subject` (in `queue`, when given: one member of the group gets each message). Returns an unsubscribe. */
  subscribe(
    subject: string,
    handler: (msg: TransportMessage) => void,
    opts?: { queue?: string; onError?: (err: unknown) => void },
  ): () => void;
  /** Resolves once everything published so far has left this process. */
  flush(): Promise<void>;
}

/** The largest payload of one hop part on `transport` (its limit, or `cap` if lower, less header room). */
export function transportFrameLimit(transport: ClusterTransport, cap?: number): number {
  return Math.max(MIN_FRAME_BYTES, Math.min(transport.maxPayload(), cap ?? Infinity) - FRAME_HEADER_ROOM_BYTES);
}

/**
 * Sends `data` as one message or in hop-frames' parts over the port: every part but the last is published to `subject`;
 * the last (with its part headers, or none when the payload fits one message) goes to `last`.
 */
export function sendFramedOn<T>(
  transport: ClusterTransport,
  subject: string,
  data: Uint8Array,
  limit: number,
  msgId: string,
  last: (payload: Uint8Array, headers: HopHeaders | undefined) => T,
): T {
  const parts = splitPayload(data, limit);
  if (parts.length === 1) return last(data, undefined);
  for (let i = 0; i < parts.length - 1; i++) transport.publish(subject, parts[i], partHeaders(msgId, i, parts.length));
  return last(parts[parts.length - 1], partHeaders(msgId, parts.length - 1, parts.length));
}
