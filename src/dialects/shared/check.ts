import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { ingestError, ok, reject, type ErrorCode, type Result } from '../../core/index.js';

/** "/events/0/value" → "events[0].value" */
export function jsonPath(pointer: string, at = ''): string {
  const parts = pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let out = at.replace(/\.$/, '');
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : `${out === '' ? '' : '.'}${p}`;
  return out === '' ? 'body' : out;
}

const TYPE_MISMATCH = new Set([
  ValueErrorType.String, ValueErrorType.Number, ValueErrorType.Integer, ValueErrorType.Boolean, ValueErrorType.Object,
  ValueErrorType.Array, ValueErrorType.Null, ValueErrorType.Literal, ValueErrorType.Union,
]);

const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v);

function describe(e: ValueError, field: string, outer?: Record<string, unknown>): { code: ErrorCode; message: string } {
  const s: Record<string, unknown> = { description: outer?.description, ...(e.schema as Record<string, unknown>) };
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return { code: 'field_required', message: `${field} is required.` };
    case ValueErrorType.ObjectAdditionalProperties:
      return { code: 'unknown_field', message: `${field} is not a field this endpoint knows; check its spelling.` };
    case ValueErrorType.String:
      return { code: 'field_type', message: `${field} must be a string, got ${kindOf(e.value)}.` };
    case ValueErrorType.Number:
      return { code: 'field_type', message: `${field} must be a number, got ${kindOf(e.value)}.` };
    case ValueErrorType.Integer:
      return { code: 'field_type', message: `${field} must be a whole number.` };
    case ValueErrorType.Boolean:
      return { code: 'field_type', message: `${field} must be true or false, got ${kindOf(e.value)}.` };
    case ValueErrorType.Object:
      return { code: 'field_type', message: `${field} must be an object, got ${kindOf(e.value)}.` };
    case ValueErrorType.Array:
      return { code: 'field_type', message: `${field} must be an array, got ${kindOf(e.value)}.` };
    case ValueErrorType.StringMaxLength:
      return { code: 'field_too_long', message: `${field} must be at most ${String(s.maxLength)} characters long.` };
    case ValueErrorType.StringMinLength:
      return { code: 'field_invalid', message: s.minLength === 1 ? `${field} must not be empty.` : `${field} must be at least ${String(s.minLength)} characters long.` };
    case ValueErrorType.StringPattern:
    case ValueErrorType.StringFormat:
      return { code: 'field_invalid', message: `${field} must be ${String(s.description ?? `of the form ${String(s.pattern)}`)}.` };
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return { code: 'field_invalid', message: `${field} must be at most ${String(s.maximum)}.` };
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return { code: 'field_invalid', message: `${field} must be at least ${String(s.minimum)}.` };
    case ValueErrorType.ObjectMaxProperties:
      return { code: 'field_invalid', message: `${field} may have at most ${String(s.maxProperties)} keys.` };
    case ValueErrorType.ArrayMaxItems:
      return { code: 'field_invalid', message: `${field} may hold at most ${String(s.maxItems)} items.` };
    case ValueErrorType.Union: {
      // The value had the right type for a member but broke its rule (a maximum, a pattern): say that rule.
      const specific = e.errors.map((it) => it.First()).find((m) => m !== undefined && !TYPE_MISMATCH.has(m.type));
      if (specific !== undefined) return describe(specific, field, s);
      return { code: 'field_type', message: `${field} must be ${String(s.description ?? 'one of the allowed types')}, got ${kindOf(e.value)}.` };
    }
    case ValueErrorType.Literal:
      return { code: 'field_invalid', message: `${field} must be ${JSON.stringify(s.const)}.` };
    default:
      return { code: 'field_invalid', message: `${field}: ${e.message}.` };
  }
}

/**
 * Compiles a TypeBox schema into a checker that returns the typed value or the first problem,
 * named by its JSON path. The same schema documents the endpoint in /openapi.json.
 */
export function checker<T extends TSchema>(schema: T): (value: unknown, at: string) => Result<Static<T>> {
  const compiled = TypeCompiler.Compile(schema);
  return (value, at) => {
    if (compiled.Check(value)) return ok(value);
    const first = compiled.Errors(value).First();
    if (first === undefined) return reject(ingestError('invalid_body', 'The event does not have the expected shape.'));
    const field = jsonPath(first.path, at);
    const { code, message } = describe(first, field);
    return reject(ingestError(code, message, { field }));
  };
}
