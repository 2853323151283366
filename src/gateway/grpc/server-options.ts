import type { ChannelOptions } from '@grpc/grpc-js';

/** Limits of the gRPC front door, named with their units. */

/** A CreateShow of a stadium is rows with counts, far below this; anything larger is abuse. */
export const MAX_RECEIVE_MESSAGE_BYTES = 1024 * 1024;
/** A full GetShow of the largest show the core accepts (200,000 seats) is about 7.5 MB. */
export const MAX_SEND_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Calls in flight on one connection; the bench runs 100 on one channel. */
export const MAX_CONCURRENT_STREAMS = 1_000;
/** The server pings an idle-looking connection this often and drops it when no answer comes. */
export const KEEPALIVE_TIME_MS = 30_000;
export const KEEPALIVE_TIMEOUT_MS = 10_000;
/** Connections are recycled so load spreads again after a gateway joins; watchers resume. */
export const MAX_CONNECTION_AGE_MS = 60 * 60_000;
export const MAX_CONNECTION_AGE_GRACE_MS = 60_000;
export const MAX_CONNECTION_IDLE_MS = 15 * 60_000;
/** How long close() lets calls in flight finish before cutting them off. */
export const SHUTDOWN_GRACE_MS = 5_000;

/**
 * Server options. grpc-js (1.14) reads only these on the server side: it has no
 * enforcement of client ping rates (`grpc.http2.min_ping_interval_without_data_ms`,
 * `grpc.keepalive_permit_without_calls` are client-channel options there), so they live in
 * CLIENT_CHANNEL_OPTIONS, where they take effect.
 */
export const SERVER_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_SEND_MESSAGE_BYTES,
  'grpc.max_concurrent_streams': MAX_CONCURRENT_STREAMS,
  'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
  'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  'grpc.max_connection_age_ms': MAX_CONNECTION_AGE_MS,
  'grpc.max_connection_age_grace_ms': MAX_CONNECTION_AGE_GRACE_MS,
  'grpc.max_connection_idle_ms': MAX_CONNECTION_IDLE_MS,
};

/** Channel options for our own clients (tests, bench, internal services). */
export const CLIENT_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': MAX_SEND_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_RECEIVE_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
  'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': KEEPALIVE_TIME_MS,
};
