import type { Bus } from '../core/ports.ts';

/**
 * In-process bus: synchronous delivery, subjects matched exactly or by a trailing `.>`.
 * Handler errors are contained so one bad subscriber cannot break a publisher.
 */
export class MemoryBus implements Bus {
  private readonly exact = new Map<string, Set<(m: unknown, s: string) => void>>();
  private readonly prefixes = new Map<string, Set<(m: unknown, s: string) => void>>();

  constructor(private readonly onHandlerError: (err: unknown) => void = () => {}) {}

  publish(subject: string, message: unknown): void {
    const deliver = (set: Set<(m: unknown, s: string) => void> | undefined) => {
      if (!set) return;
      for (const h of [...set]) {
        try {
          h(message, subject);
        } catch (err) {
          this.onHandlerError(err);
        }
      }
    };
    deliver(this.exact.get(subject));
    if (this.prefixes.size) {
      for (const [prefix, set] of this.prefixes) if (subject.startsWith(prefix)) deliver(set);
    }
  }

  subscribe(subject: string, handler: (message: unknown, subject: string) => void): () => void {
    const wildcard = subject.endsWith('.>');
    const table = wildcard ? this.prefixes : this.exact;
    const key = wildcard ? subject.slice(0, -1) : subject;
    let set = table.get(key);
    if (!set) table.set(key, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0) table.delete(key);
    };
  }

  async close(): Promise<void> {
    this.exact.clear();
    this.prefixes.clear();
  }
}
