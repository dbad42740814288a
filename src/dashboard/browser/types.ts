/** The admin API's answers, as the dashboard reads them (spec/api.md §8, spec/attribution.md). */

export interface Variation { key: string; name: string; weight: number }

export interface Optimization {
  key: string; name: string; status: 'running' | 'paused' | 'ended';
  variations: Variation[]; control: string; goals: string[]; primaryGoal: string; createdAt: number; updatedAt: number;
}

export type Interval = [number, number];

export interface VariationResult {
  key: string; visitors: number; converters: number; conversions: number; conversionRate: number; value: number; valuePerVisitor: number;
  lift?: { absolute: number | null; relative: number | null; ci95: Interval | null };
  pValue?: number | null;
  chanceToBeatControl?: number;
  sequential?: { pValue: number | null; ci95: Interval | null };
}

export interface Results {
  optimization: string; goal: string; from: number | null; to: number | null; computedAt: number | null;
  variations: VariationResult[]; srm: { pValue: number | null; flagged: boolean };
}

export interface Series {
  goal: string; interval: 'day' | 'hour';
  points: { at: number; variations: { key: string; visitors: number; converters: number; conversionRate: number }[] }[];
}

export interface Attribution { optimization: string; variation: string; viewedAt: number; visitorId?: string }

export interface RunSummary {
  id: number; mode: 'full' | 'incremental'; until: number; startedAt: number; finishedAt: number;
  conversionsProcessed: number; attributed: number; notAttributed: number; changed: number; newlyAttributed: number; unattributed: number;
}

export interface OutcomeBrief { outcome: 'attributed' | 'not_attributed'; reason: string | null; attributions: Attribution[] }

export interface RunDetail extends RunSummary {
  /** A page of them (the first, unless asked for another). */
  changes: { eventId: number; before: OutcomeBrief | null; after: OutcomeBrief | null }[];
  /** How many changes the run made (of the optimization asked for). */
  changesTotal: number;
  nextAfter: number | null;
  deltas: { optimization: string; variation: string; conversions: number }[];
}

export interface StoredEvent {
  id: number; type: string; name: string | null; occurredAt: number; receivedAt: number; idempotencyKey: string | null;
  visitorId: string | null; sessionId: string | null; userDomain: string | null; userId: string | null;
  optimization: string | null; variation: string | null; value: number | null; currency: string | null;
  properties: Record<string, unknown> | null; context: { url?: string } | null; source: string;
}

export interface ConversionAnswer {
  conversion: StoredEvent;
  outcome: 'attributed' | 'not_attributed' | 'pending';
  attributions: Attribution[];
  reason: string | null;
  explanation: string;
}

export interface JourneyEvent {
  id: number; type: string; name: string | null; occurredAt: number; receivedAt: number; idempotencyKey: string | null;
  visitorId: string | null; sessionId: string | null; userDomain?: string | null; userId?: string | null;
  optimization?: string | null; variation?: string | null; value?: number | null;
  outcome?: 'pending' | OutcomeBrief;
}

export interface Journey {
  visitors: { visitorId: string; sessions: { start: number; end: number; endedBy: 'inactivity' | 'max_duration' }[] }[];
  events: JourneyEvent[];
}

export interface Rejection {
  id: number; receivedAt: number; dialect: string; endpoint: string; params: Record<string, string>; index: number | null;
  code: string; message: string; field: string | null; body: unknown; replayedAt: number | null; replayedEventId: number | null;
}

export interface Key { id: string; name: string; kind: 'server' | 'browser'; prefix: string; createdAt: number; revokedAt: number | null; status: 'active' | 'revoked' }

export interface Goal { id: number; apiName: string | null; name: string; createdAt: number; history: { apiName: string; validFrom: number; validTo: number | null }[] }

export interface WorkspaceSettings {
  maxEventAgeDays: number; maxClockSkewMs: number; rateLimitPerMinute: number; monthlyQuota: number | null; serverSideEnabled: boolean;
  sessionTimeoutMinutes: number; sessionMaxHours: number; allowedOrigins: string[]; honorGlobalPrivacyControl: boolean;
  attributionSchedule: string; attributionIntervalSeconds: number | null;
}

export interface Workspace { id: string; name: string; settings: WorkspaceSettings; overrides: Partial<WorkspaceSettings>; createdAt: number }

export interface Match { conversions: number; matched: number; matchRate: number | null }

export interface DataQuality {
  computedAt: number;
  matchRate: { overall: Match; byUserDomain: Record<string, Match>; byDialect: Record<string, Match> };
  ingestionLagMs: Record<string, { p50: number | null; p90: number | null; p99: number | null; max: number | null }>;
  rejections: Record<string, number>;
}
