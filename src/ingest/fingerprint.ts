import { createHash } from 'node:crypto';
import { FINGERPRINT_FIELDS, type CanonicalEvent, type FingerprintField } from '../core/index.js';

/** Stable JSON: object keys sorted, so the same content always gives the same text. */
function stable(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

function contentOf(e: CanonicalEvent, timestampGiven: boolean): Record<FingerprintField, unknown> {
  const out = {} as Record<FingerprintField, unknown>;
  for (const f of FINGERPRINT_FIELDS) out[f] = f === 'occurredAt' && !timestampGiven ? null : e[f];
  return out;
}

/** Hash of what makes an event "the same" for idempotency. */
export function fingerprint(e: CanonicalEvent, timestampGiven: boolean): string {
  return createHash('sha256').update(stable(contentOf(e, timestampGiven))).digest('base64url');
}

/** The content fields in which two events differ (a time the retry did not give is not compared). */
export function differingFields(first: CanonicalEvent, retry: CanonicalEvent, retryTimestampGiven: boolean): FingerprintField[] {
  return FINGERPRINT_FIELDS.filter((f) => {
    if (f === 'occurredAt' && !retryTimestampGiven) return false;
    return stable(first[f]) !== stable(retry[f]);
  });
}
