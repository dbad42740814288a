import type { DialectName, EventType, StoredEvent } from '../core/index.js';
import type { WorkspaceSettingsInput } from '../config/index.js';

export interface Workspace {
  id: string;
  name: string;
  /** Only the settings that were set; see effectiveSettings() for the values in force. */
  settings: WorkspaceSettingsInput;
  createdAt: number;
}

export type KeyKind = 'server' | 'browser';

export interface ApiKeyRecord {
  id: string;
  workspaceId: string;
  name: string;
  kind: KeyKind;
  /** The first characters of the key, safe to show ("cl_sk_Ab3x…"). */
  prefix: string;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  hash: string;
  rateLimitPerMinute: number | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface GoalName {
  apiName: string;
  validFrom: number;
  /** null while the name is current. */
  validTo: number | null;
}

export interface Goal {
  id: number;
  workspaceId: string;
  name: string;
  createdAt: number;
  /** Oldest first; the last one is the current name. */
  history: GoalName[];
}

export type OptimizationStatus = 'running' | 'paused' | 'ended';

export interface Variation {
  key: string;
  name: string;
  weight: number;
}

export interface Optimization {
  workspaceId: string;
  key: string;
  name: string;
  variations: Variation[];
  /** Goal ids, not names: a goal keeps its place in an optimization when it is renamed. */
  goalIds: number[];
  primaryGoalId: number;
  control: string;
  status: OptimizationStatus;
  createdAt: number;
  updatedAt: number;
}

/** An event (or a whole body) the pipeline refused, kept so it can be inspected and replayed. */
export interface Rejection {
  id: number;
  workspaceId: string;
  receivedAt: number;
  dialect: DialectName;
  /** Path parameters and query the request came with, needed to replay it (never the key). */
  route: { url: string; params: Record<string, string> };
  /** Index in the batch, or null when the whole body was refused. */
  index: number | null;
  code: string;
  message: string;
  field: string | null;
  /** The event as sent, with PII fields replaced by their hashes. */
  raw: string;
  replayedAt: number | null;
  replayedEventId: number | null;
}
export type NewRejection = Omit<Rejection, 'id' | 'replayedAt' | 'replayedEventId'>;

/**
 * What became of one appended event: stored now, or not stored because its idempotency key
 * was already taken — by `event`, the first one, which the caller compares with its own.
 */
export type AppendOutcome =
  | { status: 'stored'; event: StoredEvent }
  | { status: 'existing'; event: StoredEvent };

export interface EventQuery {
  type?: EventType;
  name?: string;
  /** The dialect that received the event. */
  source?: DialectName;
  visitorId?: string;
  userDomain?: string;
  userId?: string;
  /** Cursor: only events with a smaller id. */
  before?: number;
  limit: number;
}

/** One conversion's recorded attribution (spec/attribution.md "Answers"). */
export interface StoredOutcome {
  eventId: number;
  outcome: 'attributed' | 'not_attributed';
  reason: string | null;
  goalId: number | null;
  attributions: { optimization: string; variation: string; viewedAt: number; visitorId: string }[];
  /** What the explanation needs: the visitors considered and the view that decided a session reason. */
  detail: { visitors: string[]; deciding: unknown };
  runId: number;
}

export interface AttributionRun {
  id: number;
  workspaceId: string;
  mode: 'full' | 'incremental';
  /** Events received up to this instant were considered. */
  until: number;
  startedAt: number;
  finishedAt: number;
  conversionsProcessed: number;
  attributed: number;
  notAttributed: number;
  /** Conversions whose outcome this run changed (restatement). */
  changed: number;
  newlyAttributed: number;
  unattributed: number;
}

/** The fingerprints of a workspace's stored outcomes, sorted by event id: ids[k]'s outcome was written with prints[k]. */
export interface Fingerprints {
  ids: Float64Array;
  prints: Float64Array;
}

interface MatchRate { conversions: number; matched: number; matchRate: number | null }

/** What GET …/data-quality reports of a workspace's conversions (a run computes it; QualityTally). */
export interface DataQualityFigures {
  matchRate: { overall: MatchRate; byUserDomain: Record<string, MatchRate>; byDialect: Record<string, MatchRate> };
  ingestionLagMs: Record<string, { p50: number | null; p90: number | null; p99: number | null; max: number | null }>;
}

/** The conversions attributed to one optimization for one goal, in event id order: each one's variation and visitor. */
export interface Attributed {
  eventIds: Float64Array;
  variations: string[];
  visitorIds: string[];
}

/** What a run changed for one conversion. */
export interface OutcomeChange {
  eventId: number;
  before: Pick<StoredOutcome, 'outcome' | 'reason' | 'attributions'> | null;
  /** null: the event is no longer a conversion (a browser custom event whose name stopped naming a goal at its time). */
  after: Pick<StoredOutcome, 'outcome' | 'reason' | 'attributions'> | null;
}

/** The fields of an event that attribution reads, in id order. */
export type ScannedEvent = Pick<StoredEvent, 'id' | 'type' | 'name' | 'occurredAt' | 'receivedAt' | 'idempotencyKey' | 'visitorId' | 'sessionId'
  | 'userDomain' | 'userId' | 'optimization' | 'variation' | 'value' | 'source'>;
