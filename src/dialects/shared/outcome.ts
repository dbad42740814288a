import { reject, type IngestError, type Result } from '../../core/index.js';
import { redactText, type AcceptedResult, type EventDraft, type IngestOutcome, type ParseContext, type RejectedResult } from '../../ingest/index.js';
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

/**
 * A refusal's sentence without the emails and phone numbers it may quote from the request (a
 * timestamp given as an email, a customerId that differs): they are hashed, in the answer and in
 * what the quarantine keeps.
 */
export function withoutPii(e: IngestError): IngestError {
  const message = redactText(e.message);
  return message === e.message ? e : { ...e, message };
}

/** A dialect's event reader whose refusals quote no PII (see withoutPii). */
export function privately(toDraft: (item: unknown, ctx: ParseContext) => Result<EventDraft>): (item: unknown, ctx: ParseContext) => Result<EventDraft> {
  return (item, ctx) => {
    const r = toDraft(item, ctx);
    return r.ok ? r : reject(withoutPii(r.error));
  };
}

/** An error as closeloop's own shapes (native, collect) answer it: code, message, and where. */
export const errorDetail = (e: IngestError) => ({
  code: e.code, message: withoutPii(e).message,
  ...(e.index !== undefined ? { index: e.index } : {}),
  ...(e.field !== undefined ? { field: e.field } : {}),
  ...(e.fields !== undefined ? { fields: e.fields } : {}),
});
