import type { IngestError } from './errors.js';

/** A step's outcome: a value to carry on with, or the reason the input was refused. */
export type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: IngestError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function reject<T = never>(error: IngestError): Result<T> {
  return { ok: false, error };
}
