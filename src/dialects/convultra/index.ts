import { ERROR_CATALOG, type IngestError, type StoredEvent } from '../../core/index.js';
import type { EventResult } from '../../ingest/index.js';
import { answerSingle, bodyItems, privately, sortOutcome, withoutPii } from '../shared/index.js';
import { credentialFrom, type DialectRequest, headerValue, type Dialect, type HttpAnswer, type HttpInput } from '../types.js';
import { ConvultraBatchSchema, ConvultraEventSchema, ConvultraResponseSchema, MAX_BATCH } from './schema.js';
import { convultraToDraft } from './to-draft.js';

/** "evt_<received ms>_<id in base 36>": the same for a retry as for the first request. */
export const eventIdOf = (e: StoredEvent): string => `evt_${e.receivedAt}_${e.id.toString(36).padStart(6, '0')}`;

function error(refusal: IngestError): HttpAnswer {
  const e = withoutPii(refusal);
  const status = ERROR_CATALOG[e.code].status;
  return { status, body: { success: false, error: e.message, code: e.code, ...(e.fields !== undefined ? { fields: e.fields } : {}) } };
}

function read(input: HttpInput, batch: boolean): DialectRequest {
  const { items, unreadable } = bodyItems(input, batch, { maxBatch: MAX_BATCH, batchUrl: '/v1/track/batch' });
  const apiKey = input.query.api_key;
  return {
    dialect: 'convultra',
    credential: credentialFrom(input.headers, 'Bearer') ?? (typeof apiKey === 'string' ? apiKey : null),
    workspaceRef: null,
    items,
    batch,
    maxBatch: batch ? MAX_BATCH : 1,
    toDraft: privately(convultraToDraft),
    route: { url: batch ? '/v1/track/batch' : '/v1/track', params: {} },
    idempotencyKeyHeader: headerValue(input.headers, 'idempotency-key'),
    unreadable,
    fieldNames: { name: 'event_type', occurredAt: 'timestamp', sessionId: 'session_id', userId: 'user_id', value: 'properties.value', currency: 'properties.currency', properties: 'properties', userData: 'user_data' },
    idempotencyField: 'properties.order_id',
  };
}

const resultOf = (r: EventResult) => (r.status === 'rejected'
  ? { index: r.index, success: false, error: withoutPii(r.error).message, code: r.error.code }
  : { index: r.index, success: true, event_id: eventIdOf(r.event), ...(r.status === 'duplicate' ? { duplicate: true } : {}) });

/** Convultra Server API (spec/api.md §4). */
export const convultra: Dialect = {
  name: 'convultra',
  description: 'Drop-in for the Convultra Server API: POST /v1/track and /v1/track/batch with Bearer or ?api_key=.',
  error,
  routes: [
    {
      url: '/v1/track',
      summary: 'Track one server-side event (Convultra dialect).',
      body: ConvultraEventSchema,
      response: ConvultraResponseSchema,
      read: (input) => read(input, false),
      respond: (outcome) => answerSingle(outcome, error, (r) => ({ success: true, event_id: eventIdOf(r.event) })),
    },
    {
      url: '/v1/track/batch',
      summary: 'Track up to 100 server-side events in one request (Convultra dialect); each event is judged on its own.',
      body: ConvultraBatchSchema,
      response: ConvultraResponseSchema,
      read: (input) => read(input, true),
      respond: (outcome) => {
        const { refusal, accepted } = sortOutcome(outcome);
        const rs = outcome.results;
        if (refusal !== null) {
          const answer = error(refusal);
          if (rs.length > 0) (answer.body as Record<string, unknown>).results = rs.map(resultOf);
          return answer;
        }
        return {
          status: 200,
          body: {
            success: true,
            event_id: eventIdOf(accepted[0]!.event),
            event_ids: rs.map((r) => (r.status === 'rejected' ? null : eventIdOf(r.event))),
            results: rs.map(resultOf),
            ...(outcome.dryRun !== null ? { dryRun: outcome.dryRun } : {}),
          },
        };
      },
    },
  ],
};
