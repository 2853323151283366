import type { Logger } from '../logger.ts';
import { hopParts } from './cluster-metrics.ts';
import { sendFramedOn, type ClusterTransport } from './transport.ts';
import type { OpResult } from './wire.ts';

export interface ResultSenderOptions {
  transport: ClusterTransport;
  /** Largest payload of one message (read per flush: the server may change it on reconnect). */
  limit: () => number;
  logger: Logger;
}

const encoder = new TextEncoder();

/**
 * Sends op results to gateway inboxes. A result waits at most for the end of the current
 * turn of the event loop, so results a group commit settles together share one message
 * (`{"results":[…]}`) without any op waiting for a slower one. Results are serialized one
 * by one and packed up to the message limit; one larger than the limit goes alone, in parts.
 */
export class ResultSender {
  private readonly queued = new Map<string, Array<{ id: number; json: string }>>();
  private scheduled = false;

  constructor(private readonly opts: ResultSenderOptions) {}

  send(inbox: string, id: number, result: OpResult): void {
    let json: string;
    try {
      json = JSON.stringify({ id, ...result });
    } catch (err) {
      this.opts.logger.error({ err, id }, 'could not serialize a result');
      json = JSON.stringify({ id, ok: false, error: { code: 'INTERNAL', message: 'the result could not be serialized' } });
    }
    let q = this.queued.get(inbox);
    if (!q) this.queued.set(inbox, (q = []));
    q.push({ id, json });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flushNow());
    }
  }

  flushNow(): void {
    this.scheduled = false;
    if (this.queued.size === 0) return;
    const limit = this.opts.limit();
    for (const [inbox, results] of this.queued) {
      let pack: string[] = [];
      let size = 0;
      const flushPack = () => {
        if (pack.length > 0) this.publish(inbox, `{"results":[${pack.join(',')}]}`, limit, '');
        pack = [];
        size = 0;
      };
      for (const r of results) {
        // Room for the envelope and commas; strings are UTF-16 lengths, bytes may be more.
        const bytes = Buffer.byteLength(r.json);
        if (bytes + 32 > limit) {
          this.publish(inbox, `{"results":[${r.json}]}`, limit, `r${r.id}`);
          continue;
        }
        if (size + bytes + 32 > limit) flushPack();
        pack.push(r.json);
        size += bytes + 1;
      }
      flushPack();
    }
    this.queued.clear();
  }

  private publish(inbox: string, body: string, limit: number, msgId: string): void {
    try {
      sendFramedOn(this.opts.transport, inbox, encoder.encode(body), limit, msgId, (payload, headers) => {
        if (headers) hopParts.labels('out').inc(Number(headers.get('Hop-Parts')));
        this.opts.transport.publish(inbox, payload, headers);
      });
    } catch (err) {
      // A closed connection: the gateway's attempt times out and it retries (mutations are idempotent).
      this.opts.logger.warn({ err, inbox }, 'could not send results');
    }
  }
}
