import { ingestError, ok, reject, type Result } from '../core/index.js';
import type { WorkspaceSettings } from '../config/index.js';

const DAY_MS = 86_400_000;
/** Epoch ms below this (1973-03-03) can only be seconds sent where milliseconds belong. */
const SECONDS_CEILING = 100_000_000_000;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

const iso = (ms: number): string => (Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : 'an invalid date');

export interface TimestampRules {
  now: number;
  settings: Pick<WorkspaceSettings, 'maxClockSkewMs' | 'maxEventAgeDays'>;
  /** Which forms the dialect allows. */
  accept: 'ms' | 'iso' | 'ms-or-iso';
}

/**
 * Reads an event time and checks it against the workspace's limits (spec/api.md §6).
 * @param field the field's name as the sender wrote it, for the message
 */
export function readTimestamp(raw: unknown, field: string, rules: TimestampRules): Result<number> {
  let ms: number;
  if (typeof raw === 'number' && rules.accept !== 'iso') {
    if (!Number.isSafeInteger(raw)) {
      return reject(ingestError('timestamp_invalid', `${field} must be a whole number of UNIX milliseconds, got ${raw}.`, { field }));
    }
    if (raw >= 0 && raw < SECONDS_CEILING) {
      return reject(ingestError('timestamp_in_seconds',
        `${field} ${raw} looks like UNIX seconds (${iso(raw * 1000)}); send UNIX milliseconds, e.g. ${raw * 1000}.`, { field }));
    }
    ms = raw;
  } else if (typeof raw === 'string' && rules.accept !== 'ms') {
    if (!ISO_WITH_ZONE.test(raw) || Number.isNaN(Date.parse(raw))) {
      return reject(ingestError('timestamp_invalid', `${field} must be an ISO 8601 time with a zone, such as 2024-01-15T14:30:45Z; got "${raw.slice(0, 40)}".`, { field }));
    }
    ms = Date.parse(raw);
  } else {
    const want = rules.accept === 'ms' ? 'a number of UNIX milliseconds' : rules.accept === 'iso' ? 'an ISO 8601 string' : 'UNIX milliseconds or an ISO 8601 string';
    return reject(ingestError('timestamp_invalid', `${field} must be ${want}, got ${raw === null ? 'null' : typeof raw}.`, { field }));
  }
  const { maxClockSkewMs, maxEventAgeDays } = rules.settings;
  if (ms > rules.now + maxClockSkewMs) {
    return reject(ingestError('timestamp_in_future',
      `${field} ${iso(ms)} is ${Math.round((ms - rules.now) / 1000)} s in the future; at most ${maxClockSkewMs / 1000} s is allowed (maxClockSkewMs). Send the time the conversion happened, in UTC.`, { field }));
  }
  if (ms < rules.now - maxEventAgeDays * DAY_MS) {
    return reject(ingestError('timestamp_too_old',
      `${field} ${iso(ms)} is older than this workspace's limit of ${maxEventAgeDays} days (maxEventAgeDays).`, { field }));
  }
  return ok(ms);
}
