/**
 * The edge limits every front door applies, with their defaults (units in the names).
 * A limit of 0 switches that limit off. Why each default is what it is: README, "Edge limits".
 */

/**
 * Hold attempts per client address per minute (HTTP and WebSocket). A person picks, changes
 * their mind and holds again a few times a minute; 300 (5 a second, sustained) still lets a
 * hundred fans behind one venue or mobile-carrier NAT address each hold three times a
 * minute, while one address needs minutes, not the 1.2 s it took before, to sweep a show.
 */
export const DEFAULT_HOLDS_PER_ADDRESS_PER_MINUTE = 300;
/** Hold attempts per customer id per minute, whatever the address: a browser never needs 30. */
export const DEFAULT_HOLDS_PER_CUSTOMER_PER_MINUTE = 30;
/**
 * Hold attempts per address per minute over gRPC: internal services (checkout) hold on
 * behalf of many customers from one address, so the per-address budget is far higher there;
 * the per-customer limit still applies to each customer_id they name.
 */
export const DEFAULT_GRPC_HOLDS_PER_ADDRESS_PER_MINUTE = 6_000;
/** Wrong admin tokens per address per minute before every admin call from it gets 429. */
export const DEFAULT_ADMIN_FAILURES_PER_ADDRESS_PER_MINUTE = 10;
/** WebSockets one gateway serves at once (lowered further to fit the process's file limit). */
export const DEFAULT_WS_MAX_SOCKETS = 50_000;
/** WebSockets one client address may hold open: a venue NAT of a thousand open seat maps. */
export const DEFAULT_WS_MAX_SOCKETS_PER_ADDRESS = 1_000;
/** gRPC WatchShow streams one gateway serves at once. */
export const DEFAULT_GRPC_MAX_WATCH_STREAMS = 10_000;
/** WatchShow streams one address may hold open (an internal service watching many shows). */
export const DEFAULT_GRPC_MAX_WATCH_STREAMS_PER_ADDRESS = 1_000;
/** An admin token shorter than this is refused at start: 16 random characters resist guessing. */
export const MIN_ADMIN_TOKEN_CHARS = 16;
/** Window of every rate limit above. */
export const RATE_WINDOW_SECONDS = 60;
/**
 * A client over a limit hears RATE_LIMITED only after this long. One that honours
 * Retry-After never notices; one that hammers in a loop then costs the server a timer per
 * second per connection instead of a request per millisecond, so it cannot crowd out others.
 */
export const DEFAULT_OVER_LIMIT_DELAY_MS = 1_000;

export interface EdgeLimitSettings {
  holdsPerAddressPerMinute: number;
  holdsPerCustomerPerMinute: number;
  grpcHoldsPerAddressPerMinute: number;
  adminFailuresPerAddressPerMinute: number;
  /** How long a refusal waits before it is sent (see DEFAULT_OVER_LIMIT_DELAY_MS). */
  overLimitDelayMs?: number;
}

export const DEFAULT_EDGE_LIMITS: Readonly<EdgeLimitSettings> = {
  holdsPerAddressPerMinute: DEFAULT_HOLDS_PER_ADDRESS_PER_MINUTE,
  holdsPerCustomerPerMinute: DEFAULT_HOLDS_PER_CUSTOMER_PER_MINUTE,
  grpcHoldsPerAddressPerMinute: DEFAULT_GRPC_HOLDS_PER_ADDRESS_PER_MINUTE,
  adminFailuresPerAddressPerMinute: DEFAULT_ADMIN_FAILURES_PER_ADDRESS_PER_MINUTE,
};

/** Every rate limit off: for tests and benches that drive many clients from one address. */
export const NO_RATE_LIMITS: Readonly<EdgeLimitSettings> = {
  holdsPerAddressPerMinute: 0,
  holdsPerCustomerPerMinute: 0,
  grpcHoldsPerAddressPerMinute: 0,
  adminFailuresPerAddressPerMinute: 0,
};
