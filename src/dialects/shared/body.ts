import { ingestError, type IngestError } from '../../core/index.js';
import type { HttpInput } from '../types.js';
import { isRecord } from './values.js';

/**
 * The events of a body shaped `{"events": [...]}` (batch endpoints) or one event object (single
 * endpoints), or why the body is not that shape — kept with its text for the quarantine.
 */
export function bodyItems(input: HttpInput, batch: boolean, hint: { maxBatch: number; batchUrl: string }): { items: unknown[]; unreadable: { error: IngestError; raw: string } | null } {
  const body = input.body;
  if (input.bodyError !== null) return { items: [body], unreadable: input.bodyError };
  const raw = () => JSON.stringify(body) ?? '';
  if (batch) {
    if (isRecord(body) && Array.isArray(body.events)) return { items: body.events, unreadable: null };
    return { items: [body], unreadable: { error: ingestError('invalid_body', `The body must be {"events": [...]} with 1 to ${hint.maxBatch} events.`, { field: 'events' }), raw: raw() } };
  }
  if (!isRecord(body)) {
    return { items: [body], unreadable: { error: ingestError('invalid_body', `The body must be one event as a JSON object; use ${hint.batchUrl} for several.`), raw: raw() } };
  }
  return { items: [body], unreadable: null };
}
