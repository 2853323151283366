import { ErrorCode as NatsErrorCode, NatsError, createInbox, type NatsConnection } from 'nats';
import { TransportError, type ClusterTransport, type HopHeaders, type TransportMessage } from './transport.ts';

/** The NATS server's default max_payload, used until the connection knows the server's. */
const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** The cluster transport on core NATS: subjects, queue groups and request/reply as they are. */
export class NatsTransport implements ClusterTransport {
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

  async request(subject: string, data: Uint8Array, opts: { timeoutMs: number; headers?: HopHeaders }): Promise<Uint8Array> {
    try {
      const msg = await this.nc.request(subject, data, {
        timeout: Math.max(1, Math.ceil(opts.timeoutMs)),
        ...(opts.headers ? { headers: opts.headers } : {}),
      });
      return msg.data;
    } catch (err) {
      if (err instanceof NatsError && err.code === NatsErrorCode.NoResponders)
        throw new TransportError('no-responders', 'no responders', { cause: err });
      if (err instanceof NatsError && err.code === NatsErrorCode.Timeout)
        throw new TransportError('timeout', 'request timed out', { cause: err });
      throw err;
    }
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
