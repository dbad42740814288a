import { ERROR_CATALOG, ingestError, ok, reject, type IngestError, type Result } from '../../core/index.js';
import { readTimestamp, type EventDraft, type ParseContext } from '../../ingest/index.js';
import { answerSingle, checker, isRecord, privately, withoutPii } from '../shared/index.js';
import { credentialFrom, type DialectRequest, type Dialect, type DialectRoute, type HttpAnswer, type HttpInput } from '../types.js';
import { OptimizeEventSchema, OptimizeResponseSchema } from './schema.js';

const check = checker(OptimizeEventSchema);
/** The Optimize API doc refuses conversions older than 2 days; a workspace's own maxEventAgeDays wins. */
const OPTIMIZE_MAX_AGE_DAYS = 2;

function error(refusal: IngestError): HttpAnswer {
  const e = withoutPii(refusal);
  return {
    status: ERROR_CATALOG[e.code].status,
    body: { error: e.code, message: e.message, ...(e.field !== undefined ? { field: e.field } : {}), ...(e.fields !== undefined ? { fields: e.fields } : {}) },
  };
}

function toDraft(pathCustomerId: string | null) {
  return (item: unknown, ctx: ParseContext): Result<EventDraft> => {
    const checked = check(item, '');
    if (!checked.ok) return checked;
    const e = checked.value;
    if (pathCustomerId === null && e.customerId === undefined) {
      return reject(ingestError('field_required', 'customerId is required (your account id), or send to /customer/{customerId}/event.', { field: 'customerId' }));
    }
    if (pathCustomerId !== null && e.customerId !== undefined && String(e.customerId) !== pathCustomerId) {
      return reject(ingestError('field_invalid', `customerId "${String(e.customerId)}" in the body differs from "${pathCustomerId}" in the path.`, { field: 'customerId' }));
    }
    const name = e.eventName ?? e.apiName;
    if (name === undefined) return reject(ingestError('field_required', 'eventName is required (the custom goal\'s event name; apiName is accepted as its older alias).', { field: 'eventName' }));
    if (e.eventName !== undefined && e.apiName !== undefined && e.eventName !== e.apiName) {
      return reject(ingestError('field_invalid', `eventName "${e.eventName}" and apiName "${e.apiName}" differ; send one of them.`, { field: 'apiName' }));
    }
    const raw = typeof e.actionTimestamp === 'string' && /^\d{1,16}$/.test(e.actionTimestamp) ? Number(e.actionTimestamp) : e.actionTimestamp;
    const settings = ctx.explicitSettings.maxEventAgeDays === undefined ? { ...ctx.settings, maxEventAgeDays: OPTIMIZE_MAX_AGE_DAYS } : ctx.settings;
    const t = readTimestamp(raw, 'actionTimestamp', { now: ctx.now, settings, accept: 'ms' });
    if (!t.ok) return t;
    return ok({
      type: 'conversion', name, occurredAt: t.value, timestampGiven: true, idempotencyKey: String(e.actionId),
      visitorId: null, sessionId: null, userDomain: String(e.userDomain), userId: String(e.userId),
      optimization: null, variation: null, value: e.value ?? null, currency: null, properties: null, userData: null, context: null,
    });
  };
}

function read(input: HttpInput, pathCustomerId: string | null, url: string): DialectRequest {
  const body = input.body;
  let unreadable = input.bodyError;
  if (unreadable === null && !isRecord(body)) {
    unreadable = { error: ingestError('invalid_body', 'The body must be one conversion as a JSON object.'), raw: JSON.stringify(body) ?? '' };
  }
  const bodyCustomer = isRecord(body) && (typeof body.customerId === 'string' || typeof body.customerId === 'number') ? String(body.customerId) : null;
  return {
    dialect: 'optimize',
    credential: credentialFrom(input.headers, 'ApiKey'),
    workspaceRef: pathCustomerId ?? bodyCustomer,
    items: [body],
    batch: false,
    maxBatch: 1,
    toDraft: privately(toDraft(pathCustomerId)),
    route: { url, params: pathCustomerId === null ? {} : { customerId: pathCustomerId } },
    idempotencyKeyHeader: null,
    unreadable,
    fieldNames: { name: 'eventName', occurredAt: 'actionTimestamp', userDomain: 'userDomain', userId: 'userId', value: 'value' },
    idempotencyField: 'actionId',
  };
}

// "If the request is successful, the command line returns the data you submitted."
const respond: DialectRoute['respond'] = (outcome, input) => answerSingle(outcome, error, () => ({ ...(input.body as Record<string, unknown>) }));

/** Optimize off-site conversions (spec/api.md §3). */
export const optimize: Dialect = {
  name: 'optimize',
  description: 'Drop-in for Optimize off-site conversions: POST /event and POST /customer/{customerId}/event with Authorization: ApiKey.',
  error,
  routes: [
    {
      url: '/event',
      summary: 'Send one off-site conversion (Optimize dialect); customerId in the body.',
      body: OptimizeEventSchema,
      response: OptimizeResponseSchema,
      relaxedJson: true,
      read: (input) => read(input, null, '/event'),
      respond,
    },
    {
      url: '/customer/:customerId/event',
      summary: 'Send one off-site conversion (Optimize dialect) for the customer in the path.',
      body: OptimizeEventSchema,
      response: OptimizeResponseSchema,
      relaxedJson: true,
      read: (input) => read(input, input.params.customerId ?? '', '/customer/:customerId/event'),
      respond,
    },
  ],
};
