import { DiscardPolicy, JSONCodec, NatsError, nanos, RetentionPolicy, StorageType, type NatsConnection, type StreamConfig } from 'nats';
import type { Logger } from '../logger.ts';
import { EVENTS_STREAM } from '../subjects.ts';
import type { OutSink, OutSinkMessage } from '../core/out-sink.ts';
import { PubAckMux } from './jetstream-pub-ack.ts';

/** The stream out-events are stored in (OUT_STREAM). */
export const DEFAULT_OUT_STREAM = 'SEATS_OUT';
/**
 * How long the stream remembers an eventId (Nats-Msg-Id) to drop a repeat. Covers a takeover
 * (seconds) and a restart of the whole cluster (minutes) with room; beyond it consumers dedup.
 */
export const OUT_STREAM_DUPLICATE_WINDOW_MS = 10 * 60_000;
/** Retention: a consumer may be away this long (7 days) and still catch up. */
export const OUT_STREAM_MAX_AGE_MS = 7 * 24 * 3_600_000;
/**
 * Retention by size: none by default (-1), the age limit alone. JetStream reserves a stream's
 * max_bytes from the server's store when the stream is created, so a fixed default (8 GiB)
 * would refuse to start on a server with less room, or once a few clusters share one.
 */
export const OUT_STREAM_MAX_BYTES = -1;
/** A publish not acknowledged within this long is retried (same Nats-Msg-Id). */
export const OUT_PUBLISH_TIMEOUT_MS = 5_000;
/** Publishes in flight at once, across shows. */
export const OUT_PUBLISH_CONCURRENCY = 256;
/**
 * Publishes of one show in flight at once. One: with more, a message lost with a dropped
 * connection would be re-sent after the show's later ones that went out on the new
 * connection, and the stream would hold them out of version order.
 */
export const OUT_PUBLISH_PER_SHOW = 1;
/** Room left in each message for the headers (Nats-Msg-Id, Nats-Expected-Stream) and the subject prefix. */
const HEADER_ROOM_BYTES = 512;
const JS_STREAM_NOT_FOUND = 10059;

export interface OutStreamOptions {
  /** Stream name (default: see outStreamName). */
  stream: string;
  /** The bus subject prefix (BUS_SUBJECT_PREFIX): the stream takes `<prefix>.seats.out.>`. */
  subjectPrefix?: string | undefined;
  logger: Logger;
  duplicateWindowMs?: number;
  maxAgeMs?: number;
  maxBytes?: number;
}

/**
 * The out stream's name: OUT_STREAM, else SEATS_OUT beside the default event stream, else
 * `<event stream>_OUT`, so that a cluster (or test) with its own event stream and subject
 * prefix also gets its own out stream (two streams may not take the same subjects).
 */
export function outStreamName(outStream: string | undefined, eventStream: string | undefined): string {
  if (outStream) return outStream;
  return eventStream && eventStream !== EVENTS_STREAM ? `${eventStream}_OUT` : DEFAULT_OUT_STREAM;
}

function apiErrorCode(err: unknown): number | undefined {
  return err instanceof NatsError ? err.api_error?.err_code : undefined;
}

/**
 * Creates the out stream or brings an existing one to these settings (idempotent; every node
 * does it at start). Limits retention: the stream keeps messages for OUT_STREAM_MAX_AGE_MS or
 * up to OUT_STREAM_MAX_BYTES, whichever ends first, whether or not anyone consumed them, so
 * any number of consumers can read it at their own pace.
 */
async function ensureOutStream(nc: NatsConnection, opts: OutStreamOptions, subjects: string, maxMsgBytes: number): Promise<void> {
  const jsm = await nc.jetstreamManager();
  const wanted = {
    name: opts.stream,
    subjects: [subjects],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(opts.maxAgeMs ?? OUT_STREAM_MAX_AGE_MS),
    max_bytes: opts.maxBytes ?? OUT_STREAM_MAX_BYTES,
    max_msgs: -1,
    max_msg_size: maxMsgBytes,
    duplicate_window: nanos(opts.duplicateWindowMs ?? OUT_STREAM_DUPLICATE_WINDOW_MS),
    num_replicas: 1,
  } satisfies Partial<StreamConfig>;
  for (let attempt = 0; ; attempt++) {
    try {
      const current = (await jsm.streams.info(opts.stream)).config;
      const subjectList = [...new Set([...(current.subjects ?? []), subjects])];
      if (
        subjectList.length !== (current.subjects ?? []).length ||
        current.max_age !== wanted.max_age ||
        current.max_bytes !== wanted.max_bytes ||
        current.max_msg_size !== wanted.max_msg_size ||
        current.duplicate_window !== wanted.duplicate_window
      ) {
        await jsm.streams.update(opts.stream, {
          subjects: subjectList,
          max_age: wanted.max_age,
          max_bytes: wanted.max_bytes,
          max_msg_size: wanted.max_msg_size,
          duplicate_window: wanted.duplicate_window,
        });
        opts.logger.info({ stream: opts.stream }, 'out stream settings updated');
      }
      return;
    } catch (err) {
      if (apiErrorCode(err) !== JS_STREAM_NOT_FOUND || attempt > 2) throw err;
    }
    try {
      await jsm.streams.add(wanted);
      opts.logger.info({ stream: opts.stream, subjects }, 'out stream created');
      return;
    } catch (err) {
      // Another node created it first: loop to read and update it.
      if (attempt > 2) throw err;
    }
  }
}

/**
 * The JetStream sink: each out-event is published on its usual subject (so core NATS
 * subscribers of `seats.out.>` still receive it) with `Nats-Msg-Id` = `eventId`, and counts
 * as delivered once the stream acknowledges it. A repeat within the duplicate window is
 * acknowledged as a duplicate and not stored again.
 */
export async function openOutStream(nc: NatsConnection, opts: OutStreamOptions): Promise<OutSink> {
  const prefix = opts.subjectPrefix ? `${opts.subjectPrefix}.` : '';
  const maxMsgBytes = nc.info?.max_payload ?? 1024 * 1024;
  await ensureOutStream(nc, opts, `${prefix}seats.out.>`, maxMsgBytes);
  // Acknowledged on a reply subscription of the sink's own (see jetstream-pub-ack.ts).
  const acks = new PubAckMux(nc);
  const codec = JSONCodec<unknown>();
  return {
    name: 'jetstream',
    maxMessageBytes: maxMsgBytes - HEADER_ROOM_BYTES - prefix.length,
    concurrency: OUT_PUBLISH_CONCURRENCY,
    inFlightPerShow: OUT_PUBLISH_PER_SHOW,
    send: async (m: OutSinkMessage) => {
      await acks.publish(prefix + m.subject, codec.encode(m.event), {
        msgID: m.event.eventId,
        stream: opts.stream,
        timeoutMs: OUT_PUBLISH_TIMEOUT_MS,
      });
    },
  };
}
