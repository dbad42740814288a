import type { CanonicalEvent, ContentField, DialectName, IngestError, Result, StoredEvent, UserDataField } from '../core/index.js';
import type { WorkspaceSettings, WorkspaceSettingsInput } from '../config/index.js';
import type { ApiKeyRecord, Workspace } from '../store/index.js';

/**
 * What a dialect hands over for one event: the canonical fields the sender controls, with PII
 * still raw (the pipeline hashes it) and whether the time was given.
 */
export interface EventDraft extends Omit<CanonicalEvent, 'workspaceId' | 'receivedAt' | 'source' | 'userData'> {
  /** False when the sender gave no time and occurredAt defaulted to now; such a time is not compared on retries. */
  timestampGiven: boolean;
  userData: Partial<Record<UserDataField, string>> | null;
}

/** What a dialect's mapping may read while it turns one raw event into a draft. */
export interface ParseContext {
  now: number;
  settings: WorkspaceSettings;
  /** Only the settings the workspace set explicitly (a dialect may have its own default otherwise). */
  explicitSettings: WorkspaceSettingsInput;
  /** Path prefix for field names in messages ("" for a single event, "events[3]." in a batch). */
  at: string;
  index: number;
  /** The request's Idempotency-Key header, for single events. */
  idempotencyKeyHeader: string | null;
}

/** A request as a dialect adapter has read it, before the pipeline judges it. */
export interface IngestRequest {
  dialect: DialectName;
  /** The presented secret, wherever the dialect found it; null when none was sent. */
  credential: string | null;
  /** The workspace the request names in its path or body; null when it names none. */
  workspaceRef: string | null;
  /** The raw events, as parsed from the body. */
  items: unknown[];
  /** Whether the body was a batch (an `events` array) rather than a single event. */
  batch: boolean;
  maxBatch: number;
  /** The dialect's mapping of one raw event. */
  toDraft: (item: unknown, ctx: ParseContext) => Result<EventDraft>;
  /** For replay: the path and params, never the credential. */
  route: { url: string; params: Record<string, string> };
  idempotencyKeyHeader: string | null;
  dryRun: boolean;
  /** False on replay: an event that fails again keeps its original quarantine entry instead of a new one. */
  quarantine: boolean;
  /** The client address, used when an event names no ip of its own. Never stored whole. */
  clientIp: string | null;
  userAgent: string | null;
  /** A body that could not even be read as events (bad JSON, wrong shape): the pipeline quarantines it once authenticated. */
  unreadable: { error: IngestError; raw: string } | null;
  /** The dialect's names for canonical fields, for messages (e.g. occurredAt → actionTimestamp). */
  fieldNames: Partial<Record<ContentField, string>>;
  /** The dialect's name for the idempotency key ("actionId", "properties.order_id"). */
  idempotencyField: string;
  /**
   * Set for a request from a web page (POST /collect): it must carry a browser key, not a server
   * key, come from one of the workspace's allowedOrigins, and is refused when the browser sent
   * Global Privacy Control and the workspace honours it. Its rate limit applies per client address.
   */
  browser?: BrowserRequest;
}

export interface BrowserRequest {
  /** The Origin header; null when none was sent. */
  origin: string | null;
  /** Whether the browser sent Global Privacy Control (Sec-GPC: 1, or the snippet said so). */
  gpc: boolean;
}

export interface RateLimitState {
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Set when the request was refused. */
  retryAfterSeconds: number | null;
}

export type AcceptedResult = { index: number; status: 'stored' | 'duplicate'; event: StoredEvent };
export type RejectedResult = { index: number; status: 'rejected'; error: IngestError };
export type EventResult = AcceptedResult | RejectedResult;

/** For a conversion in a dry run: the attribution it would get if it were stored now. */
export interface AttributionPreview {
  outcome: 'attributed' | 'not_attributed';
  attributions: { optimization: string; variation: string; viewedAt: number }[];
  reason: string | null;
  explanation: string;
}

/** Previews the attribution of would-be events; null for an event that is not a conversion. */
export type AttributionPreviewer = (workspaceId: string, events: CanonicalEvent[]) => Promise<(AttributionPreview | null)[]>;

export interface DryRunReport {
  /** The events as they would be stored (no ids). */
  wouldStore: Omit<StoredEvent, 'id'>[];
  /** Per would-be event, in the same order: the attribution a conversion would get right now (null: not a conversion). */
  attribution: (AttributionPreview | null)[];
}

export interface IngestOutcome {
  /** Set when the whole request was refused; `results` is then empty. */
  error: IngestError | null;
  results: EventResult[];
  rateLimit: RateLimitState | null;
  key: ApiKeyRecord | null;
  workspace: Workspace | null;
  dryRun: DryRunReport | null;
}
