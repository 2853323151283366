import { createHmac, timingSafeEqual } from 'node:crypto';
import type { OutMessage } from './out-events.ts';
import type { OutSink } from './out-relay.ts';

/** Header carrying `sha256=<hex>` of HMAC-SHA256(secret, raw body). */
export const WEBHOOK_SIGNATURE_HEADER = 'seats-signature';
/** Header carrying the time of this attempt in Unix seconds (a retry has a later one). */
export const WEBHOOK_TIMESTAMP_HEADER = 'seats-timestamp';
/** Header carrying the eventId (also in the body), for receivers that dedup before parsing. */
export const WEBHOOK_EVENT_ID_HEADER = 'seats-event-id';
/** A POST not answered 2xx within this long is retried. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Largest body posted; pages of show.cancelled/show.changed are cut to fit. */
export const WEBHOOK_MAX_BODY_BYTES = 1024 * 1024;
/** Shows with a POST in flight at once (one per show, to keep each show's order). */
export const WEBHOOK_CONCURRENCY = 4;

export class WebhookRejectedError extends Error {
  override name = 'WebhookRejectedError';
  constructor(readonly status: number) {
    super(`webhook answered ${status}`);
  }
}

/** The signature of one body, as the header carries it. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** For receivers (and tests): whether a body and its headers were signed with `secret`. */
export function verifyWebhookSignature(secret: string, body: string, signature: string): boolean {
  const want = Buffer.from(webhookSignature(secret, body));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

export interface WebhookOptions {
  url: string;
  /** Absent: the body is sent unsigned (no signature header). */
  secret?: string | undefined;
  timeoutMs?: number;
  concurrency?: number;
  /** The clock for the timestamp header (tests). */
  now?: () => number;
}

/**
 * The webhook sink: POSTs each out-event as its JSON body (the same object the stream carries)
 * to WEBHOOK_URL; any 2xx counts as delivered, anything else (or no answer) is retried by the
 * relay with backoff. The subject goes in the `Seats-Subject` header.
 */
export function webhookSink(opts: WebhookOptions): OutSink {
  const timeoutMs = opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  const now = opts.now ?? Date.now;
  return {
    name: 'webhook',
    maxMessageBytes: WEBHOOK_MAX_BODY_BYTES,
    concurrency: opts.concurrency ?? WEBHOOK_CONCURRENCY,
    // Two requests of one show could overtake each other: one at a time keeps its order.
    inFlightPerShow: 1,
    send: async (m: OutMessage) => {
      const body = JSON.stringify(m.event);
      const timestamp = String(Math.floor(now() / 1000));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'seats-subject': m.subject,
        [WEBHOOK_EVENT_ID_HEADER]: m.event.eventId,
        [WEBHOOK_TIMESTAMP_HEADER]: timestamp,
      };
      if (opts.secret) headers[WEBHOOK_SIGNATURE_HEADER] = webhookSignature(opts.secret, body);
      const res = await fetch(opts.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
      // Drain the answer so the connection is reused.
      await res.arrayBuffer().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) throw new WebhookRejectedError(res.status);
    },
  };
}
