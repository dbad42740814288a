import type { IngestError } from '../../core/index.js';
import type { AcceptedResult, IngestOutcome, RejectedResult } from '../../ingest/index.js';
import type { HttpAnswer } from '../types.js';

/**
 * What every dialect's answer starts from: the refusal of the whole request, or the accepted and
 * rejected events. `refusal` is set when nothing was accepted (the whole request was refused, or
 * every event in it was): the dialect answers with `error(refusal)`.
 */
export interface Sorted {
  refusal: IngestError | null;
  accepted: AcceptedResult[];
  rejected: RejectedResult[];
}

export function sortOutcome(outcome: IngestOutcome): Sorted {
  const accepted: AcceptedResult[] = [];
  const rejected: RejectedResult[] = [];
  for (const r of outcome.results) {
    if (r.status === 'rejected') rejected.push(r);
    else accepted.push(r);
  }
  const refusal = outcome.error ?? (accepted.length === 0 ? rejected[0]?.error ?? null : null);
  return { refusal, accepted, rejected };
}

/** The answer to a single-event request: the dialect's error, or `ok` built from the one accepted event. */
export function answerSingle(outcome: IngestOutcome, error: (e: IngestError) => HttpAnswer, ok: (r: AcceptedResult) => Record<string, unknown>): HttpAnswer {
  const { refusal, accepted } = sortOutcome(outcome);
  if (refusal !== null) return error(refusal);
  return { status: 200, body: { ...ok(accepted[0]!), ...(outcome.dryRun !== null ? { dryRun: outcome.dryRun } : {}) } };
}

/** An error as closeloop's own shapes (native, collect) answer it: code, message, and where. */
export const errorDetail = (e: IngestError) => ({
  code: e.code, message: e.message,
  ...(e.index !== undefined ? { index: e.index } : {}),
  ...(e.field !== undefined ? { field: e.field } : {}),
  ...(e.fields !== undefined ? { fields: e.fields } : {}),
});
