import { createHash } from 'node:crypto';
import type { HashedUserData, PropertyValue, UserDataField } from '../core/index.js';

const HEX64 = /^[a-fA-F0-9]{64}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** RFC 5321 §4.5.3.1: no address is longer. The bound also keeps EMAIL's backtracking small on hostile strings. */
const MAX_EMAIL_LENGTH = 320;
const isEmail = (v: string): boolean => v.length <= MAX_EMAIL_LENGTH && EMAIL.test(v);

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * Normalisation per field, as Meta's Conversions API and Google's Enhanced Conversions specify,
 * so that hashes match the ones ad platforms compute.
 */
const name = (v: string): string => v.normalize('NFC').trim().toLowerCase().replace(/[\p{P}\p{S}]/gu, '').replace(/\s+/g, ' ');

/**
 * Normalisation per field, as Meta's Conversions API customer-information parameters specify
 * (lower case, no punctuation, UTF-8 in NFC; phone as E.164 digits; US ZIP+4 cut to 5 digits),
 * so that hashes match the ones ad platforms compute.
 */
const NORMALISE: Record<UserDataField, (v: string) => string> = {
  email: (v) => v.normalize('NFC').trim().toLowerCase(),
  // E.164 digits without "+", as Meta hashes them: "+1 (650) 555-1212" → "16505551212".
  phone: (v) => v.replace(/\D/g, '').replace(/^0+/, ''),
  firstName: name,
  lastName: name,
  city: (v) => name(v).replace(/\s/g, ''),
  state: (v) => name(v).replace(/\s/g, ''),
  postalCode: (v) => {
    const compact = v.normalize('NFC').trim().toLowerCase().replace(/[\s-]/g, '');
    return /^\d{9}$/.test(compact) && /^\d{5}-?\d{4}$/.test(v.trim()) ? compact.slice(0, 5) : compact;
  },
  country: (v) => v.normalize('NFC').trim().toLowerCase(),
};

export function normalisePii(field: UserDataField, value: string): string {
  return NORMALISE[field](value);
}

/** SHA-256 of the normalised value; a value that already is a SHA-256 digest is kept as sent. */
export function hashPii(field: UserDataField, value: string): string {
  const v = value.trim();
  if (HEX64.test(v)) return v.toLowerCase();
  return sha256(normalisePii(field, v));
}

export function hashUserData(raw: Partial<Record<UserDataField, string>>): HashedUserData | null {
  const out: HashedUserData = {};
  let any = false;
  for (const [field, value] of Object.entries(raw) as [UserDataField, string | undefined][]) {
    if (value === undefined || value.trim() === '') continue;
    out[field] = hashPii(field, value);
    any = true;
  }
  return any ? out : null;
}

/** Free-form properties may carry an email someone did not mean to send: store its hash instead. */
export function scrubProperties(props: Record<string, PropertyValue> | null): Record<string, PropertyValue> | null {
  if (props === null) return null;
  let out: Record<string, PropertyValue> | null = null;
  for (const [k, v] of Object.entries(props)) {
    if (typeof v === 'string' && isEmail(v.trim())) {
      out ??= { ...props };
      out[k] = hashPii('email', v);
    }
  }
  return out ?? props;
}

const USER_DATA_CONTAINERS = new Set(['userData', 'user_data']);
const FIELD_ALIASES: Record<string, UserDataField> = {
  email: 'email', phone: 'phone', firstName: 'firstName', first_name: 'firstName', lastName: 'lastName',
  last_name: 'lastName', city: 'city', state: 'state', postalCode: 'postalCode', postal_code: 'postalCode', country: 'country',
};

/**
 * A copy of a raw event safe to keep in the quarantine: values under userData/user_data are
 * replaced by their hashes (which replay accepts as pre-hashed), and any email-shaped string
 * elsewhere too. Raw PII never reaches disk, not even for events we refused.
 */
export function redactRaw(value: unknown, parentKey = ''): unknown {
  if (typeof value === 'string') {
    if (isEmail(value.trim())) return hashPii('email', value);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => redactRaw(v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const inUserData = USER_DATA_CONTAINERS.has(parentKey);
  for (const [k, v] of Object.entries(value)) {
    const field = Object.hasOwn(FIELD_ALIASES, k) ? FIELD_ALIASES[k] : undefined;
    out[k] = inUserData && field !== undefined && typeof v === 'string' ? hashPii(field, v) : redactRaw(v, k);
  }
  return out;
}

/**
 * Email-shaped substrings. A match may only start where a token starts (the lookbehind): without
 * that, a long run without "@" is rescanned from each of its characters — a megabyte of "xxx…"
 * would hold the process for an hour.
 */
const EMAIL_IN_TEXT = /(?<![^\s@"'{}[\],:])[^\s@"'{}[\],:]+@[^\s@"'{}[\],:]+\.[A-Za-z]{2,}/g;

/** Redacts email-shaped substrings of text that could not be parsed as JSON. */
export function redactText(text: string): string {
  return text.replace(EMAIL_IN_TEXT, (m) => hashPii('email', m));
}
