import type { NatsConnection } from 'nats';
import type { Logger } from '../logger.ts';

/**
 * Whether a NATS connection is up right now, from its status stream: down from a
 * `disconnect` (the socket closed; the client keeps reconnecting) until a `reconnect`.
 * The router asks it before each attempt so it can fail fast instead of sending into a
 * connection that cannot deliver, and waits on it to resend what was in flight.
 */
export class NatsLink {
  private isUp = true;
  private downSince = 0;
  private waiters = new Set<() => void>();
  private readonly listeners = new Set<(up: boolean) => void>();
  private stopped = false;

  constructor(nc: NatsConnection, logger?: Logger) {
    const log = logger?.child({ subsystem: 'nats-link' });
    void (async () => {
      for await (const s of nc.status()) {
        if (this.stopped) break;
        if (s.type === 'disconnect' && this.isUp) {
          this.isUp = false;
          this.downSince = performance.now();
          log?.warn('nats connection lost; new requests fail fast until it returns');
          for (const fn of [...this.listeners]) fn(false);
        } else if (s.type === 'reconnect' && !this.isUp) {
          this.isUp = true;
          log?.info({ downMs: Math.round(performance.now() - this.downSince) }, 'nats connection back');
          for (const fn of [...this.listeners]) fn(true);
          this.wake();
        }
      }
    })();
    void nc.closed().then(() => this.stop());
  }

  get up(): boolean {
    return this.isUp;
  }

  /** Runs `fn` each time the connection goes down (false) or comes back (true). Returns an unsubscribe. */
  onChange(fn: (up: boolean) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves true once the connection is up (at once if it is), false after `timeoutMs`. */
  waitUp(timeoutMs: number): Promise<boolean> {
    if (this.isUp) return Promise.resolve(true);
    if (timeoutMs <= 0 || this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(this.isUp);
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  stop(): void {
    this.stopped = true;
    this.wake();
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}
