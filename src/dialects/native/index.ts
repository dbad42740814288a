import { ERROR_CATALOG, ingestError, type IngestError } from '../../core/index.js';
import type { EventResult } from '../../ingest/index.js';
import { credentialFrom, headerValue, type Dialect, type HttpAnswer } from '../types.js';
import { errorDetail, isRecord, privately, sortOutcome } from '../shared/index.js';
import { MAX_BATCH, NativeBodySchema, NativeResponseSchema } from './schema.js';
import { nativeToDraft } from './to-draft.js';


function error(e: IngestError): HttpAnswer {
  return { status: ERROR_CATALOG[e.code].status, body: { ok: false, error: errorDetail(e) } };
}

const resultOf = (r: EventResult) => (r.status === 'rejected'
  ? { index: r.index, status: r.status, error: errorDetail(r.error) }
  : { index: r.index, status: r.status, id: r.event.id });

/** closeloop's own API (spec/api.md §2). */
export const native: Dialect = {
  name: 'native',
  description: 'closeloop\'s own ingestion API.',
  error,
  routes: [{
    url: '/v1/events',
    summary: 'Send one event or a batch of up to 500 (pageview, view, identify, conversion, custom).',
    body: NativeBodySchema,
    response: NativeResponseSchema,
    read: (input) => {
      const body = input.body;
      const batch = isRecord(body) && 'events' in body;
      let items: unknown[] = [body];
      let unreadable = input.bodyError;
      if (batch) {
        if (Array.isArray(body.events)) items = body.events;
        else unreadable ??= { error: ingestError('invalid_body', 'events must be an array of events.', { field: 'events' }), raw: JSON.stringify(body) };
        const extra = Object.keys(body).find((k) => k !== 'events');
        if (extra !== undefined) unreadable ??= { error: ingestError('unknown_field', `${extra} is not a field of a batch body; send {"events": [...]}.`, { field: extra }), raw: JSON.stringify(body) };
      } else if (!isRecord(body) && unreadable === null) {
        unreadable = { error: ingestError('invalid_body', 'The body must be an event object or {"events": [...]}.'), raw: JSON.stringify(body) ?? '' };
      }
      return {
        dialect: 'native',
        credential: credentialFrom(input.headers, 'Bearer'),
        workspaceRef: null,
        items,
        batch,
        maxBatch: MAX_BATCH,
        toDraft: privately(nativeToDraft),
        route: { url: '/v1/events', params: {} },
        idempotencyKeyHeader: headerValue(input.headers, 'idempotency-key'),
        unreadable,
        fieldNames: { occurredAt: 'timestamp' },
        idempotencyField: 'idempotencyKey',
      };
    },
    respond: (outcome, input) => {
      const { refusal } = sortOutcome(outcome);
      const rs = outcome.results;
      const batch = isRecord(input.body) && 'events' in input.body;
      if (refusal !== null) {
        const answer = error(refusal);
        if (batch && rs.length > 0) (answer.body as Record<string, unknown>).results = rs.map(resultOf);
        return answer;
      }
      const body: Record<string, unknown> = {
        ok: true,
        ids: rs.map((r) => (r.status === 'rejected' || r.event.id === 0 ? null : r.event.id)),
        duplicates: rs.filter((r) => r.status === 'duplicate').length,
      };
      if (batch) body.results = rs.map(resultOf);
      if (outcome.dryRun !== null) body.dryRun = outcome.dryRun;
      return { status: 200, body };
    },
  }],
};
