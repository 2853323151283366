export { AddressSlots } from './address-slots.ts';
export { createEdgeLimiter, type Door, type EdgeLimiter } from './edge-limiter.ts';
export { openFileLimit, socketCapFor } from './file-limit.ts';
export { originAllowed, parseAllowedOrigins } from './origin-policy.ts';
export type { LimiterStore } from './rate-counter.ts';
export * from './settings.ts';
export { EDGE_LIMITS_OFF, edgeConfigOf, rateSettingsOf, type EdgeConfig, type EdgeConfigKey } from './edge-config.ts';
