import { ERROR_CATALOG, ingestError, ok, reject, type IngestError, type PropertyValue, type Result } from '../../core/index.js';
import type { EventDraft, ParseContext } from '../../ingest/index.js';
import { answerSingle, bodyItems, checker, privately, sortOutcome, withoutPii } from '../shared/index.js';
import { credentialFrom, type DialectRequest, headerValue, type Dialect, type HttpAnswer, type HttpInput } from '../types.js';
import { MAX_BATCH, WebAnalyzerBatchSchema, WebAnalyzerEventSchema, WebAnalyzerResponseSchema } from './schema.js';

const check = checker(WebAnalyzerEventSchema);

/** The Measurement Protocol's error codes by HTTP status (reference §9). */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'validation_error', 401: 'unauthorized', 402: 'monthly_limit_reached', 403: 'plan_required',
  404: 'website_not_found', 409: 'idempotency_conflict', 413: 'payload_too_large', 415: 'unsupported_media_type',
  429: 'rate_limit_exceeded', 500: 'server_error', 503: 'service_unavailable',
};

function error(refusal: IngestError): HttpAnswer {
  const e = withoutPii(refusal);
  const status = ERROR_CATALOG[e.code].status;
  const body: Record<string, unknown> = { ok: false, error: CODE_BY_STATUS[status] ?? 'server_error', message: e.message };
  if (e.retryAfterSeconds !== undefined) body.retry_after = e.retryAfterSeconds;
  if (e.field !== undefined) body.field = e.field;
  if (e.fields !== undefined) body.fields = e.fields;
  return { status, body };
}

function toDraft(item: unknown, ctx: ParseContext): Result<EventDraft> {
  const checked = check(item, ctx.at);
  if (!checked.ok) return checked;
  const e = checked.value;
  // "numbers and booleans will be cast to strings"
  const payload: Record<string, PropertyValue> = {};
  for (const [k, v] of Object.entries(e.payload ?? {})) {
    if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) {
      const f = `${ctx.at}payload.${k}`;
      return reject(ingestError('field_invalid', `${f} is a whole number above 2^53, which JSON numbers cannot hold exactly; send it as a string.`, { field: f }));
    }
    if (v !== null) payload[k] = String(v);
  }
  const amount = Number(payload.amount ?? payload.value);
  const currency = typeof payload.currency === 'string' && /^[A-Za-z]{3}$/.test(payload.currency) ? payload.currency.toUpperCase() : null;
  const context = {
    ...(typeof e.url === 'string' && e.url !== '' ? { url: e.url } : {}),
    ...(typeof e.referrer === 'string' && e.referrer !== '' ? { referrer: e.referrer } : {}),
  };
  return ok({
    type: 'conversion',
    name: e.name,
    occurredAt: ctx.now,
    timestampGiven: false,
    idempotencyKey: ctx.idempotencyKeyHeader,
    visitorId: typeof e.visitor_id === 'string' ? e.visitor_id.toLowerCase() : null,
    sessionId: null,
    userDomain: null,
    userId: null,
    optimization: null,
    variation: null,
    value: (payload.amount ?? payload.value) !== undefined && Number.isFinite(amount) && Math.abs(amount) <= 1e12 ? amount : null,
    currency,
    properties: Object.keys(payload).length === 0 ? null : payload,
    userData: null,
    context: Object.keys(context).length === 0 ? null : context,
  });
}

function read(input: HttpInput, batch: boolean): DialectRequest {
  const { items, unreadable } = bodyItems(input, batch, { maxBatch: MAX_BATCH, batchUrl: '/track/batch' });
  const websiteId = input.params.websiteId ?? '';
  const url = batch ? '/api/v1/websites/:websiteId/track/batch' : '/api/v1/websites/:websiteId/track';
  return {
    dialect: 'webanalyzer',
    credential: credentialFrom(input.headers, 'Bearer'),
    workspaceRef: websiteId,
    items,
    batch,
    maxBatch: batch ? MAX_BATCH : 1,
    toDraft: privately(toDraft),
    route: { url, params: { websiteId } },
    idempotencyKeyHeader: headerValue(input.headers, 'idempotency-key'),
    unreadable,
    fieldNames: { name: 'name', properties: 'payload', visitorId: 'visitor_id', value: 'payload.amount', currency: 'payload.currency' },
    idempotencyField: 'Idempotency-Key',
  };
}


/** Web Analyzer Measurement Protocol (spec/api.md §5). */
export const webanalyzer: Dialect = {
  name: 'webanalyzer',
  description: 'Drop-in for the Web Analyzer Measurement Protocol: POST /api/v1/websites/{websiteId}/track and /track/batch with Bearer.',
  error,
  routes: [
    {
      url: '/api/v1/websites/:websiteId/track',
      summary: 'Track one server-side event for a website (Web Analyzer dialect).',
      body: WebAnalyzerEventSchema,
      response: WebAnalyzerResponseSchema,
      read: (input) => read(input, false),
      respond: (outcome) => answerSingle(outcome, error, (r) => ({ ok: true, event_id: r.event.id })),
    },
    {
      url: '/api/v1/websites/:websiteId/track/batch',
      summary: 'Track up to 25 events in one request (Web Analyzer dialect). 400 only when every event is invalid.',
      body: WebAnalyzerBatchSchema,
      response: WebAnalyzerResponseSchema,
      read: (input) => read(input, true),
      respond: (outcome) => {
        const { refusal, accepted, rejected: refused } = sortOutcome(outcome);
        const rejected = refused.map((r) => ({ index: r.index, error: CODE_BY_STATUS[ERROR_CATALOG[r.error.code].status] ?? 'validation_error', message: withoutPii(r.error).message }));
        if (refusal !== null) {
          const answer = error(refusal);
          if (rejected.length > 0) (answer.body as Record<string, unknown>).rejected = rejected;
          return answer;
        }
        return {
          status: 200,
          body: {
            ok: true,
            processed: accepted.length,
            event_ids: accepted.map((r) => r.event.id),
            ...(rejected.length > 0 ? { rejected } : {}),
            ...(outcome.dryRun !== null ? { dryRun: outcome.dryRun } : {}),
          },
        };
      },
    },
  ],
};
