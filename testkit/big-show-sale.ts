/**
 * Selling a stadium through a cluster gateway, and listening for what its cancellation
 * publishes: shared by test/cluster/big-show-sale.test.ts and bench/cluster/big-show-bench.ts.
 */
import { connect, type NatsConnection, type Subscription } from 'nats';
import type { OutEvent } from '../src/projections/out-events.ts';
import { OUT_SUBJECTS } from '../src/subjects.ts';
import { SERVICE_URLS } from './services.ts';
import type { TestCluster } from './cluster.ts';

export interface Sale {
  /** Booking id → its total, for every booking made. */
  bookings: Map<string, number>;
  seats: number;
  total: number;
}

export interface SaleOptions {
  bookings: number;
  seatsPerBooking: number;
  /** The label of the show's seat number i (0-based); booking k takes seats k·n … k·n+n-1. */
  seatLabel: (i: number) => string;
  /** Buyers at once (HTTP requests in flight). */
  concurrency?: number;
  onProgress?: (booked: number) => void;
}

/** Answers a client retries with the same idempotency key (the README's 503/504). */
const RETRYABLE = new Set([503, 504]);
const MAX_ATTEMPTS = 8;

/**
 * Holds and confirms `bookings` bookings of `seatsPerBooking` named seats each, as that many
 * buyers would: one hold and one confirm per booking over HTTP, `concurrency` at a time,
 * each request keyed so a retried 503/504 or dropped connection cannot apply twice. Anything
 * else than 201 fails the sale with the answer in the message.
 */
export async function sellThroughGateway(cluster: TestCluster, showId: string, opts: SaleOptions): Promise<Sale> {
  const sale: Sale = { bookings: new Map(), seats: 0, total: 0 };
  const send = async (path: string, body: unknown, key: string, headers: Record<string, string> = {}) => {
    for (let attempt = 1; ; attempt++) {
      let r;
      try {
        r = await cluster.request('POST', path, body, { headers: { 'idempotency-key': key, ...headers } });
      } catch (err) {
        // A kept-alive connection the server closed just as it was reused: the key makes resending safe.
        if (attempt === MAX_ATTEMPTS) throw err;
        continue;
      }
      if (r.status === 201) return r.body;
      if (!RETRYABLE.has(r.status) || attempt === MAX_ATTEMPTS)
        throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  };
  let next = 0;
  const buyer = async () => {
    for (let k = next++; k < opts.bookings; k = next++) {
      const seats = Array.from({ length: opts.seatsPerBooking }, (_, j) => opts.seatLabel(k * opts.seatsPerBooking + j));
      const hold = await send(`/v1/shows/${showId}/holds`, { seats }, `sale-${showId}-hold-${k}`.padEnd(16, '-'));
      const booking = await send(`/v1/shows/${showId}/holds/${hold.holdId}/confirm`, {}, `sale-${showId}-confirm-${k}`.padEnd(16, '-'), {
        'hold-token': hold.holdToken,
      });
      sale.bookings.set(booking.bookingId, booking.total);
      sale.seats += booking.seats.length;
      sale.total += booking.total;
      if (sale.bookings.size % 1000 === 0) opts.onProgress?.(sale.bookings.size);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 32, opts.bookings) }, buyer));
  return sale;
}

export interface HeardMessage {
  subject: string;
  /** Payload size on the wire. */
  bytes: number;
  event: OutEvent;
}

/** Out-events of a cluster's shows as a consumer on the bus hears them. */
export interface OutEventListener {
  messages: HeardMessage[];
  /** The NATS server's max_payload: no message can be larger. */
  maxPayload: number;
  /** Resolves once `check` holds for the messages heard, or fails after `timeoutMs`. */
  until(check: (messages: HeardMessage[]) => boolean, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

/** Subscribes to every out-event subject of the cluster (under its bus prefix). */
export async function listenToOutEvents(cluster: TestCluster): Promise<OutEventListener> {
  const nc: NatsConnection = await connect({ servers: SERVICE_URLS.nats });
  const messages: HeardMessage[] = [];
  const waiters = new Set<() => void>();
  const prefix = `${cluster.busSubjectPrefix}.`;
  const subs: Subscription[] = Object.values(OUT_SUBJECTS).map((subject) =>
    nc.subscribe(prefix + subject, {
      callback: (err, m) => {
        if (err) return;
        messages.push({
          subject: m.subject.slice(prefix.length),
          bytes: m.data.length,
          event: JSON.parse(new TextDecoder().decode(m.data)) as OutEvent,
        });
        for (const w of waiters) w();
      },
    }),
  );
  await nc.flush();
  return {
    messages,
    maxPayload: nc.info?.max_payload ?? 1024 * 1024,
    until(check, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const done = () => {
          if (!check(messages)) return;
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(done);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${messages.length} out-events heard)`));
        }, timeoutMs);
        waiters.add(done);
        done();
      });
    },
    async close() {
      for (const s of subs) s.unsubscribe();
      await nc.close();
    },
  };
}
