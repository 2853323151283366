/**
 * WebSocket protocol constants, defined once: the path, frame types, close codes and the
 * default limits (units in the names).
 */

export const WS_PATH = '/v1/ws';

/**
 * Close codes the server uses. Two ways a socket ends without a close frame (the client
 * sees 1006): a slow consumer stuck above the buffer cap for `staleTimeoutMs`, and a
 * socket that missed a heartbeat. A close frame would only queue behind the backlog.
 */
export const CloseCode = {
  /** Server shutting down. */
  GOING_AWAY: 1001,
  /** Too many invalid frames (bad JSON, unknown type, bad fields) in one window. */
  POLICY_VIOLATION: 1008,
  /** A frame above `maxPayloadBytes`; sent by `ws` itself. */
  MESSAGE_TOO_BIG: 1009,
  /** Unexpected server failure. */
  INTERNAL_ERROR: 1011,
  /** The server is at its socket limit; try again later. */
  TRY_AGAIN_LATER: 1013,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Server → client frame types. */
export const ServerFrameType = {
  SNAPSHOT: 'snapshot',
  DELTA: 'delta',
  /** Ends a resume: every missed delta was sent before it. */
  SUBSCRIBED: 'subscribed',
  RESULT: 'result',
  ERROR: 'error',
} as const;
export type ServerFrameType = (typeof ServerFrameType)[keyof typeof ServerFrameType];

/** Largest client frame; larger ones close the socket with 1009. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024;
/** Coalescing window: a show sends a socket at most one delta frame per tick. */
export const DEFAULT_TICK_MS = 50;
/** The tick may stretch up to this when broadcasting eats the event loop. */
export const DEFAULT_MAX_TICK_MS = 1_000;
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_SOCKET = 20;
/** Above this `bufferedAmount` a socket is skipped for deltas and marked stale. */
export const DEFAULT_BUFFERED_CAP_BYTES = 1024 * 1024;
/** A socket stale for this long is terminated. */
export const DEFAULT_STALE_TIMEOUT_MS = 10_000;
/** How often stale sockets are checked for having drained. */
export const DEFAULT_STALE_SWEEP_MS = 100;
export const DEFAULT_HEARTBEAT_MS = 30_000;
/** Invalid frames tolerated per window before closing with 1008. */
export const DEFAULT_MAX_BAD_FRAMES = 10;
export const BAD_FRAME_WINDOW_MS = 60_000;
/** Commands a socket may have in flight; beyond it the server stops reading the socket. */
export const DEFAULT_MAX_INFLIGHT_COMMANDS = 16;
/** Recent coalesced deltas kept per show for `fromVersion` resume. */
export const DEFAULT_RING_FRAMES = 128;
export const DEFAULT_RING_BYTES = 2 * 1024 * 1024;
export const DEFAULT_MAX_SOCKETS = 50_000;
/** A show channel outlives its last watcher this long, so a reconnect can still resume. */
export const DEFAULT_CHANNEL_LINGER_MS = 15_000;
/**
 * Resubscribes do not buy the whole map over and over. Within this window after a socket
 * got a show's full snapshot, a resubscribe on the live subscription continues from the
 * version the socket has (deltas, then `subscribed`); after an unsubscribe, a socket gets
 * at most DEFAULT_MAX_SNAPSHOTS_PER_WINDOW full snapshots of one show per window.
 */
export const DEFAULT_RESNAPSHOT_WINDOW_MS = 10_000;
export const DEFAULT_MAX_SNAPSHOTS_PER_WINDOW = 3;
