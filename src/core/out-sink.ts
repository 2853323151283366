/** An out-event as a sink carries it: its subject and the JSON event, whose `eventId` is unique. */
export interface OutSinkMessage {
  subject: string;
  event: { eventId: string };
}

/**
 * Where the out relay (src/projections/out-relay.ts) delivers out-events at least once: the
 * JetStream out stream (src/persistence/out-stream.ts) or a webhook
 * (src/projections/webhook-relay.ts). Delivery is at least once, so `send` may be called again
 * for a message it already took (the sink or the consumer drops the repeat by `eventId`).
 */
export interface OutSink {
  /** For logs and the metrics' `sink` label. */
  readonly name: string;
  /** Largest message the sink takes; pages are cut to fit. */
  readonly maxMessageBytes: number;
  /** Messages in flight at once, across shows. */
  readonly concurrency: number;
  /**
   * Messages of one show in flight at once. More than 1 only where the sink stores messages in
   * the order they are sent (one NATS connection); 1 for HTTP, whose requests may overtake.
   */
  readonly inFlightPerShow: number;
  /** Most batches the relay keeps waiting for this sink (default DEFAULT_OUT_QUEUE_MAX_BATCHES). */
  readonly queueMaxBatches?: number;
  /** Resolves once the sink has stored the message; rejects (any error) to have it retried. */
  send(message: OutSinkMessage): Promise<void>;
  close?(): Promise<void>;
}
