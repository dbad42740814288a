/**
 * The one error catalog: every code the service can answer with, its HTTP status and what it means.
 * Dialects map these onto their own response shapes (dialects/<name>/respond.ts); nothing else
 * chooses a status code for a refusal.
 */
export const ERROR_CATALOG = {
  // request level
  unauthorized: { status: 401, summary: 'The API key is missing, unknown, revoked, or not allowed on this endpoint.' },
  workspace_mismatch: { status: 404, summary: 'The workspace named in the path or body is not the key\'s workspace.' },
  server_side_disabled: { status: 403, summary: 'Server-side ingestion is disabled for this workspace.' },
  origin_not_allowed: { status: 403, summary: 'A browser request came from a page whose origin is not in the workspace\'s allowedOrigins.' },
  privacy_opt_out: { status: 403, summary: 'The browser sent Global Privacy Control and the workspace honours it (honorGlobalPrivacyControl), so nothing was stored.' },
  quota_exceeded: { status: 402, summary: 'The workspace\'s monthly event quota is used up.' },
  rate_limited: { status: 429, summary: 'The key sent more requests per minute than its limit; retry after Retry-After seconds.' },
  body_too_large: { status: 413, summary: 'The request body is larger than maxBodyBytes.' },
  unsupported_media_type: { status: 415, summary: 'The body must be sent as application/json.' },
  invalid_json: { status: 400, summary: 'The body is not valid JSON.' },
  invalid_utf8: { status: 400, summary: 'The body is not valid UTF-8.' },
  nesting_too_deep: { status: 400, summary: 'The body nests objects or arrays deeper than allowed.' },
  forbidden_key: { status: 400, summary: 'The body uses __proto__ or constructor.prototype as a key.' },
  invalid_body: { status: 400, summary: 'The body does not have the shape this endpoint expects.' },
  batch_empty: { status: 400, summary: 'A batch must hold at least one event.' },
  batch_too_large: { status: 400, summary: 'A batch holds more events than this endpoint allows.' },
  // event level
  field_required: { status: 400, summary: 'A required field is missing.' },
  field_type: { status: 400, summary: 'A field has the wrong type.' },
  field_too_long: { status: 400, summary: 'A string field is longer than allowed.' },
  field_invalid: { status: 400, summary: 'A field\'s value breaks a rule stated in the message.' },
  unknown_field: { status: 400, summary: 'The event carries a field this endpoint does not know.' },
  timestamp_invalid: { status: 400, summary: 'The timestamp is not epoch milliseconds or ISO 8601 with a zone.' },
  timestamp_in_seconds: { status: 400, summary: 'The timestamp looks like UNIX seconds where milliseconds are expected.' },
  timestamp_in_future: { status: 400, summary: 'The timestamp is further in the future than maxClockSkewMs allows.' },
  timestamp_too_old: { status: 400, summary: 'The timestamp is older than the workspace\'s maxEventAgeDays.' },
  not_linkable: { status: 400, summary: 'A conversion must carry visitorId, sessionId, or userDomain and userId.' },
  idempotency_conflict: { status: 409, summary: 'The idempotency key was used before with different content.' },
  // admin and operations
  not_found: { status: 404, summary: 'No such resource in this workspace.' },
  already_exists: { status: 409, summary: 'A resource with that id or name already exists.' },
  run_in_progress: { status: 409, summary: 'An attribution run of this workspace is already in progress (in this or another process).' },
  store_unavailable: { status: 503, summary: 'The store could not make the write durable; nothing was stored, retry.' },
  overloaded: { status: 503, summary: 'The service has as much ingestion work in progress as maxInflightBytes and targetLatencyMs allow; nothing was stored, retry after Retry-After seconds.' },
  internal_error: { status: 500, summary: 'An unexpected error; it was logged.' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** A refusal, with a sentence a person can act on, and where in the input the problem is. */
export interface IngestError {
  code: ErrorCode;
  message: string;
  /** JSON path of the offending field, in the dialect's own field names (e.g. "events[2].timestamp"). */
  field?: string;
  /** Index of the event in a batch. */
  index?: number;
  /** For idempotency_conflict: the fields that differ, in the dialect's own names. */
  fields?: string[];
  /** For rate_limited: whole seconds until a retry can succeed. */
  retryAfterSeconds?: number;
}

export function statusOf(code: ErrorCode): number {
  return ERROR_CATALOG[code].status;
}

export function ingestError(code: ErrorCode, message: string, extra: Omit<IngestError, 'code' | 'message'> = {}): IngestError {
  return { code, message, ...extra };
}

/** Thrown (not returned) only for failures that are not the client's input: store down, bugs. */
export class ServiceError extends Error {
  constructor(readonly code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServiceError';
  }
}
