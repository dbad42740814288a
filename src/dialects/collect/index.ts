import { ERROR_CATALOG, ingestError, type IngestError } from '../../core/index.js';
import { checker, errorDetail, isRecord, privately, sortOutcome } from '../shared/index.js';
import { headerValue, type Dialect, type DialectRequest, type HttpAnswer, type HttpInput } from '../types.js';
import { CollectBodySchema, CollectResponseSchema, EnvelopeSchema, MAX_BATCH } from './schema.js';
import { collectToDraft } from './to-draft.js';

export { BROWSER_EVENT_TYPES, MAX_BATCH as COLLECT_MAX_BATCH } from './schema.js';

const checkEnvelope = checker(EnvelopeSchema);


function error(e: IngestError): HttpAnswer {
  return { status: ERROR_CATALOG[e.code].status, body: { ok: false, error: errorDetail(e) } };
}

const SHAPE = `The body must be {"key": "cl_pk_…", "visitorId", "sessionId", "sentAt", "events": [...]} with 1 to ${MAX_BATCH} events.`;

/**
 * Reads a batch: the key from the body (sendBeacon cannot set headers) or ?key=; the batch's
 * visitorId, sessionId and sentAt laid under each event that does not give its own, so every
 * event (and its quarantine entry) stands on its own.
 */
function read(input: HttpInput): DialectRequest {
  const body = input.body;
  const record = isRecord(body) ? body : {};
  // ?key=a&key=b arrives as an array: not a key.
  const key = typeof record.key === 'string' ? record.key : typeof input.query.key === 'string' ? input.query.key : null;
  const { key: _key, events, ...envelope } = record;
  let unreadable = input.bodyError;
  let items: unknown[] = [];
  if (unreadable === null && !Array.isArray(events)) {
    unreadable = { error: ingestError('invalid_body', SHAPE, { field: isRecord(body) ? 'events' : 'body' }), raw: JSON.stringify(isRecord(body) ? envelope : body) ?? '' };
  } else if (unreadable === null) {
    const checked = checkEnvelope({ ...(key !== null ? { key } : {}), ...envelope }, '');
    if (!checked.ok) unreadable = { error: checked.error, raw: JSON.stringify({ ...envelope, events }) };
    const { gpc: _gpc, ...defaults } = envelope;
    items = (events as unknown[]).map((e) => (isRecord(e) ? { ...defaults, ...e } : e));
  }
  return {
    dialect: 'collect',
    credential: key,
    workspaceRef: null,
    items,
    batch: true,
    maxBatch: MAX_BATCH,
    toDraft: privately(collectToDraft),
    route: { url: '/collect', params: {} },
    idempotencyKeyHeader: null,
    unreadable,
    fieldNames: { occurredAt: 'time' },
    idempotencyField: 'id',
    browser: { origin: headerValue(input.headers, 'origin'), gpc: headerValue(input.headers, 'sec-gpc') === '1' || record.gpc === true },
  };
}

/** The browser snippet's endpoint (spec/api.md §7). Mounted by the server with CORS around it. */
export const collect: Dialect = {
  name: 'collect',
  description: 'The browser snippet\'s endpoint (/t.js sends here): a browser key, pages from the workspace\'s allowedOrigins.',
  error,
  routes: [{
    url: '/collect',
    summary: 'Browser events (pageview, view, identify, custom) from the snippet, with client times corrected for clock skew. Accepts text/plain (sendBeacon).',
    body: CollectBodySchema,
    response: CollectResponseSchema,
    read,
    respond: (outcome) => {
      const { refusal, accepted, rejected } = sortOutcome(outcome);
      const rejections = rejected.map((r) => errorDetail({ ...r.error, index: r.index }));
      if (refusal !== null) {
        const answer = error(refusal);
        if (rejections.length > 0) (answer.body as Record<string, unknown>).rejected = rejections;
        return answer;
      }
      return {
        status: 200,
        body: {
          ok: true,
          stored: accepted.filter((r) => r.status === 'stored').length,
          duplicates: accepted.filter((r) => r.status === 'duplicate').length,
          rejected: rejections,
          ...(outcome.dryRun !== null ? { dryRun: outcome.dryRun } : {}),
        },
      };
    },
  }],
};
