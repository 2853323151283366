import type { Config } from '../../config.ts';
import * as D from './settings.ts';

/** The settings of the front doors' limits, as the gateway reads them from Config. */
export type EdgeConfigKey =
  | 'trustedProxies'
  | 'rateLimitHoldsPerMinute'
  | 'rateLimitCustomerHoldsPerMinute'
  | 'rateLimitGrpcHoldsPerMinute'
  | 'rateLimitAdminFailuresPerMinute'
  | 'allowedOrigins'
  | 'wsMaxSockets'
  | 'wsMaxSocketsPerAddress'
  | 'grpcMaxWatchStreams'
  | 'grpcMaxWatchStreamsPerAddress'
  | 'metricsToken';

export type EdgeConfig = Pick<Config, EdgeConfigKey>;

/** Fills what a caller left out with the product defaults: limits are on unless switched off. */
export function edgeConfigOf(partial: Partial<EdgeConfig>): EdgeConfig {
  return {
    trustedProxies: partial.trustedProxies ?? [],
    rateLimitHoldsPerMinute: partial.rateLimitHoldsPerMinute ?? D.DEFAULT_HOLDS_PER_ADDRESS_PER_MINUTE,
    rateLimitCustomerHoldsPerMinute: partial.rateLimitCustomerHoldsPerMinute ?? D.DEFAULT_HOLDS_PER_CUSTOMER_PER_MINUTE,
    rateLimitGrpcHoldsPerMinute: partial.rateLimitGrpcHoldsPerMinute ?? D.DEFAULT_GRPC_HOLDS_PER_ADDRESS_PER_MINUTE,
    rateLimitAdminFailuresPerMinute: partial.rateLimitAdminFailuresPerMinute ?? D.DEFAULT_ADMIN_FAILURES_PER_ADDRESS_PER_MINUTE,
    allowedOrigins: partial.allowedOrigins ?? [],
    wsMaxSockets: partial.wsMaxSockets ?? D.DEFAULT_WS_MAX_SOCKETS,
    wsMaxSocketsPerAddress: partial.wsMaxSocketsPerAddress ?? D.DEFAULT_WS_MAX_SOCKETS_PER_ADDRESS,
    grpcMaxWatchStreams: partial.grpcMaxWatchStreams ?? D.DEFAULT_GRPC_MAX_WATCH_STREAMS,
    grpcMaxWatchStreamsPerAddress: partial.grpcMaxWatchStreamsPerAddress ?? D.DEFAULT_GRPC_MAX_WATCH_STREAMS_PER_ADDRESS,
    metricsToken: partial.metricsToken,
  };
}

export function rateSettingsOf(c: EdgeConfig): D.EdgeLimitSettings {
  return {
    holdsPerAddressPerMinute: c.rateLimitHoldsPerMinute,
    holdsPerCustomerPerMinute: c.rateLimitCustomerHoldsPerMinute,
    grpcHoldsPerAddressPerMinute: c.rateLimitGrpcHoldsPerMinute,
    adminFailuresPerAddressPerMinute: c.rateLimitAdminFailuresPerMinute,
  };
}

/**
 * Every limit off: for tests and benches that drive many clients from one loopback
 * address and are not about limits (they say so where they use it).
 */
export const EDGE_LIMITS_OFF: Omit<EdgeConfig, 'trustedProxies' | 'allowedOrigins' | 'metricsToken'> = {
  rateLimitHoldsPerMinute: 0,
  rateLimitCustomerHoldsPerMinute: 0,
  rateLimitGrpcHoldsPerMinute: 0,
  rateLimitAdminFailuresPerMinute: 0,
  wsMaxSockets: D.DEFAULT_WS_MAX_SOCKETS,
  wsMaxSocketsPerAddress: 0,
  grpcMaxWatchStreams: D.DEFAULT_GRPC_MAX_WATCH_STREAMS,
  grpcMaxWatchStreamsPerAddress: 0,
};
