import { ingestError, ok, reject, type PropertyValue, type Result } from '../../core/index.js';

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Flattens free-form properties to scalars: nested objects and arrays (an order's `items`) are
 * kept as JSON text, capped, so nothing the sender meant is dropped and nothing unbounded is stored.
 */
export function scalarProperties(raw: Record<string, unknown>, field: string, maxValue = 1024): Result<Record<string, PropertyValue> | null> {
  const out: Record<string, PropertyValue> = {};
  let n = 0;
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined || v === null) continue;
    if (k.length > 128) return reject(ingestError('field_too_long', `${field} has a key longer than 128 characters.`, { field }));
    if (typeof v === 'string' || typeof v === 'boolean') out[k] = v;
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return reject(ingestError('field_invalid', `${field}.${k} must be a finite number.`, { field: `${field}.${k}` }));
      out[k] = v;
    } else {
      const text = JSON.stringify(v);
      if (text.length > maxValue * 8) return reject(ingestError('field_too_long', `${field}.${k} is too large (${text.length} characters as JSON; at most ${maxValue * 8}).`, { field: `${field}.${k}` }));
      out[k] = text;
    }
    if (typeof out[k] === 'string' && (out[k] as string).length > maxValue * 8) {
      return reject(ingestError('field_too_long', `${field}.${k} must be at most ${maxValue * 8} characters long.`, { field: `${field}.${k}` }));
    }
    n++;
  }
  return ok(n === 0 ? null : out);
}
