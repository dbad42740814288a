import { createHash } from 'node:crypto';
import type { EventContext, HashedUserData, PropertyValue, UserDataField } from '../core/index.js';

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

/**
 * Email addresses in text, as written or percent-encoded in a URL ("jane%40example.com"). A match
 * starts only where a token starts (the lookbehind): without that, a long run without "@" is
 * rescanned from each of its characters — a megabyte of "xxx…" held the process for an hour.
 */
const EMAIL_IN_TEXT = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/gi;
/**
 * Phone numbers as people write them: international ("+1 (415) 555-0123", "%2B44%2020…" in a URL)
 * or North American with separators ("(415) 555-0123", "415-555-0123"). Bare digit runs are left
 * alone: they are order ids and timestamps far more often than phones.
 */
const PHONE_IN_TEXT = /(?<![\w+%])(?:(?:\+|%2B)\d(?:[\d().\s-]|%20){6,24}\d|\(?\d{3}\)?(?:[\s.-]|%20)?\d{3}(?:[\s.-]|%20)\d{4})(?![\w%])/gi;
/** Property names that say their value is a phone number ("phone", "mobile_number", "billingPhone", "tel"…). */
const PHONE_KEY = /^([a-z]*phone|tel|telephone|mobile|cell|fax|whatsapp|sms|msisdn)(number|no|nr)?$/;

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};
const digits = (s: string): number => s.replace(/\D/g, '').length;

/**
 * Replaces every email address and phone number in a text by its hash (as user_data would store
 * it: the same person gets the same hash everywhere). Linear in the text's length.
 */
export function redactText(text: string): string {
  if (!/@|%40|\d{3}/i.test(text)) return text;
  return text
    .replace(EMAIL_IN_TEXT, (m) => hashPii('email', decode(m)))
    .replace(PHONE_IN_TEXT, (m) => {
      const n = digits(decode(m));
      return n >= 8 && n <= 15 ? hashPii('phone', decode(m)) : m;
    });
}

/**
 * An identifier as it is stored: a visitor, session or user id, or an idempotency key (actionId,
 * order_id…) that is — or holds — an email address or a phone number written as one (with "+" or
 * separators) keeps its shape but each of them is replaced by its hash, the one user_data.email or
 * .phone gets: joins still match (the same address always gives the same hash, whatever its case),
 * and every lookup by identifier applies this too, so the raw value finds what was stored.
 * Idempotent (a hash is left as it is); plain ids — numbers, UUIDs, "crm-123" — are kept as sent.
 */
export function pseudonymiseId(id: string): string {
  return /[@%+]|\d[\s.)-]/.test(id) ? redactText(id) : id;
}

/** pseudonymiseId over an identifier that may be absent. */
export const pseudonymiseIdOrNull = (id: string | null): string | null => (id === null ? null : pseudonymiseId(id));

/** A value under a phone-like name with a phone's worth of digits: hashed as a phone. */
function phoneByName(key: string, value: string | number): string | null {
  const text = String(value);
  if (!PHONE_KEY.test(key.toLowerCase().replace(/[^a-z]/g, ''))) return null;
  const n = digits(text);
  return n >= 7 && n <= 15 && !/[A-Za-z]{3}/.test(text) ? hashPii('phone', text) : null;
}

/**
 * Free-form properties may carry PII someone did not mean to send: an email (as the whole value or
 * inside text, nested JSON included), a phone number (inside text, or as the value of a property
 * named like one). Each is stored as its hash instead.
 */
export function scrubProperties(props: Record<string, PropertyValue> | null): Record<string, PropertyValue> | null {
  if (props === null) return null;
  let out: Record<string, PropertyValue> | null = null;
  for (const [k, v] of Object.entries(props)) {
    if (typeof v === 'boolean') continue;
    const scrubbed = typeof v === 'string' && isEmail(v.trim()) ? hashPii('email', v) : phoneByName(k, v) ?? (typeof v === 'string' ? redactText(v) : v);
    if (scrubbed !== v) {
      out ??= { ...props };
      out[k] = scrubbed;
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
 * replaced by their hashes (which replay accepts as pre-hashed), even when of the wrong type, and
 * emails and phone numbers elsewhere too. Raw PII never reaches disk, not even for events we refused.
 */
export function redactRaw(value: unknown, parentKey = ''): unknown {
  if (typeof value === 'string') {
    if (isEmail(value.trim())) return hashPii('email', value);
    return phoneByName(parentKey, value) ?? redactText(value);
  }
  if (typeof value === 'number') return phoneByName(parentKey, value) ?? value;
  if (Array.isArray(value)) return value.map((v) => redactRaw(v));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  const inUserData = USER_DATA_CONTAINERS.has(parentKey);
  for (const [k, v] of Object.entries(value)) {
    const field = Object.hasOwn(FIELD_ALIASES, k) ? FIELD_ALIASES[k] : undefined;
    out[k] = inUserData && field !== undefined && (typeof v === 'string' || typeof v === 'number') ? hashPii(field, String(v)) : redactRaw(v, k);
  }
  return out;
}

/**
 * The page address, referrer and user agent with the emails and phone numbers in them hashed
 * ("…/thanks?email=jane%40example.com"): a page's URL is the commonest way PII reaches analytics.
 */
export function scrubContext(context: EventContext | null): EventContext | null {
  if (context === null) return null;
  let out: EventContext | null = null;
  for (const field of ['url', 'referrer', 'userAgent'] as const) {
    const v = context[field];
    if (v === undefined) continue;
    const scrubbed = redactText(v);
    if (scrubbed !== v) {
      out ??= { ...context };
      out[field] = scrubbed;
    }
  }
  return out ?? context;
}
