import { CONTENT_FIELDS, type CanonicalEvent, type ContentField } from '../core/index.js';

/** Stable JSON: object keys sorted, so the same content always gives the same text. */
function stable(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** The content fields in which two events differ (a time the retry did not give is not compared). */
export function differingFields(first: CanonicalEvent, retry: CanonicalEvent, retryTimestampGiven: boolean): ContentField[] {
  return CONTENT_FIELDS.filter((f) => {
    if (f === 'occurredAt' && !retryTimestampGiven) return false;
    return stable(first[f]) !== stable(retry[f]);
  });
}
