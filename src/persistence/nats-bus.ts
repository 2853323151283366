import { JSONCodec, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from '../logger.ts';
import type { Bus } from '../core/ports.ts';

export interface NatsBusOptions {
  logger: Logger;
  /**
   * Put in front of every subject on the wire (`<prefix>.seats.delta.s1`), invisible to
   * publishers and subscribers; isolates tests and tenants sharing one NATS server.
   */
  subjectPrefix?: string;
}

/** What a NATS server accepts when it does not say (its default). */
const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** The message if it has a seat delta's shape (versions and a list of changes). */
function asResync(message: unknown): { changes: unknown[] } | null {
  const m = message as { changes?: unknown; version?: unknown; fromVersion?: unknown } | null;
  return m && Array.isArray(m.changes) && typeof m.version === 'number' && typeof m.fromVersion === 'number'
    ? (m as { changes: unknown[] })
    : null;
}

/**
 * The Bus on core NATS: JSON messages, at-most-once, in publish order per connection.
 * Nothing is dropped silently for its size: a seat delta over the server's max_payload
 * goes out as a resync marker with the same versions (watchers fetch a snapshot), any
 * other oversized message is logged as an error.
 * A handler that throws is logged and does not affect other subscribers. `close` ends the
 * subscriptions; the connection belongs to the caller.
 */
export class NatsBus implements Bus {
  private readonly codec = JSONCodec<unknown>();
  private readonly subs = new Set<Subscription>();
  private readonly prefix: string;
  private readonly logger: Logger;

  constructor(
    private readonly nc: NatsConnection,
    opts: NatsBusOptions,
  ) {
    this.prefix = opts.subjectPrefix ? `${opts.subjectPrefix}.` : '';
    this.logger = opts.logger.child({ subsystem: 'nats-bus' });
  }

  /** The server's max_payload (the subject prefix travels in the subject, not the payload). */
  get maxMessageBytes(): number | undefined {
    return this.nc.info?.max_payload;
  }

  publish(subject: string, message: unknown): void {
    try {
      let data = this.codec.encode(message);
      const limit = this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD_BYTES;
      if (data.length > limit) {
        const resync = asResync(message);
        if (!resync) {
          this.logger.error({ subject, bytes: data.length, limit }, 'message over the server max_payload not published');
          return;
        }
        // A seat delta too big for one message (a stadium-wide change): watchers get its
        // versions and a resync flag, and fetch a snapshot instead of the changes.
        this.logger.warn(
          { subject, bytes: data.length, limit, changes: resync.changes.length },
          'seat delta over max_payload sent as a resync',
        );
        data = this.codec.encode({ ...resync, changes: [], resync: true });
      }
      this.nc.publish(this.prefix + subject, data);
    } catch (err) {
      // A closed or draining connection: the message is lost, as on any at-most-once bus.
      this.logger.warn({ err, subject }, 'publish failed');
    }
  }

  subscribe(subject: string, handler: (message: unknown, subject: string) => void): () => void {
    const cut = this.prefix.length;
    const sub = this.nc.subscribe(this.prefix + subject, {
      callback: (err, msg) => {
        if (err) {
          this.logger.warn({ err, subject }, 'subscription failed');
          return;
        }
        let message: unknown;
        try {
          message = this.codec.decode(msg.data);
        } catch (e) {
          this.logger.warn({ err: e, subject: msg.subject }, 'dropped a message that is not JSON');
          return;
        }
        try {
          handler(message, msg.subject.slice(cut));
        } catch (e) {
          this.logger.error({ err: e, subject: msg.subject }, 'bus handler failed');
        }
      },
    });
    this.subs.add(sub);
    return () => {
      if (this.subs.delete(sub)) sub.unsubscribe();
    };
  }

  /** Waits until everything published so far has reached the server. */
  flush(): Promise<void> {
    return this.nc.flush();
  }

  async close(): Promise<void> {
    for (const sub of this.subs) sub.unsubscribe();
    this.subs.clear();
  }
}
