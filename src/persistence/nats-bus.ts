import { JSONCodec, type NatsConnection, type Subscription } from 'nats';
import type { Logger } from '../logger.ts';
import type { Bus } from './ports.ts';

export interface NatsBusOptions {
  logger: Logger;
  /**
   * Put in front of every subject on the wire (`<prefix>.seats.delta.s1`), invisible to
   * publishers and subscribers; isolates tests and tenants sharing one NATS server.
   */
  subjectPrefix?: string;
}

/**
 * The Bus on core NATS: JSON messages, at-most-once, in publish order per connection.
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
      this.nc.publish(this.prefix + subject, this.codec.encode(message));
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
