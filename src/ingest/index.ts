export { IngestPipeline } from './pipeline.js';
export { WorkspaceDirectory, type ResolvedWorkspace } from './workspaces.js';
export { readTimestamp, type TimestampRules } from './timestamp.js';
export { hashPii, hashUserData, normalisePii, redactRaw, redactText, scrubProperties } from './pii.js';
export { truncateIp } from './ip.js';
export { RateLimiter } from './rate-limit.js';
export { differingFields } from './differing-fields.js';
export { noMetrics, type IngestMetrics } from './metrics.js';
export type * from './types.js';
