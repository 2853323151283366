import { createInbox, type NatsConnection } from 'nats';
import { NatsRequestMux } from './nats-request-mux.ts';
import type { ClusterTransport, HopHeaders, TransportMessage } from './transport.ts';

/** The NATS server's default max_payload, used until the connection knows the server's. */
const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * The cluster transport on core NATS: subjects and queue groups as they are; requests through
 * one reply subscription of the transport's own (NatsRequestMux), made on the first request.
 */
export class NatsTransport implements ClusterTransport {
  private mux: NatsRequestMux | undefined;

  constructor(readonly nc: NatsConnection) {}

  maxPayload(): number {
    return this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD_BYTES;
  }

  newInbox(): string {
    return createInbox();
  }

  publish(subject: string, data: Uint8Array, headers?: HopHeaders): void {
    this.nc.publish(subject, data, headers ? { headers } : {});
  }

  request(subject: string, data: Uint8Array, opts: { timeoutMs: number; headers?: HopHeaders }): Promise<Uint8Array> {
    let mux = this.mux;
    if (!mux || mux.closed) {
      try {
        mux = this.mux = new NatsRequestMux(this.nc);
      } catch (err) {
        return Promise.reject(err); // the connection is closed
      }
    }
    return mux.request(subject, data, opts.timeoutMs, opts.headers);
  }

  /** Stops listening for replies (the connection stays open); requests still waiting fail. */
  close(): void {
    this.mux?.close();
    this.mux = undefined;
  }

  subscribe(
    subject: string,
    handler: (msg: TransportMessage) => void,
    opts: { queue?: string; onError?: (err: unknown) => void } = {},
  ): () => void {
    const sub = this.nc.subscribe(subject, {
      ...(opts.queue ? { queue: opts.queue } : {}),
      callback: (err, msg) => {
        if (err) {
          opts.onError?.(err);
          return;
        }
        handler({ data: msg.data, headers: msg.headers, respond: (data) => (msg.reply ? msg.respond(data) : false) });
      },
    });
    return () => sub.unsubscribe();
  }

  flush(): Promise<void> {
    return this.nc.flush();
  }
}
