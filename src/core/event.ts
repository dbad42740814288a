/** The canonical event model every dialect maps onto (DESIGN.md "Canonical event"). */

export const EVENT_TYPES = ['pageview', 'view', 'identify', 'conversion', 'custom'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const DIALECTS = ['native', 'optimize', 'convultra', 'webanalyzer', 'collect'] as const;
export type DialectName = (typeof DIALECTS)[number];

export type PropertyValue = string | number | boolean;

/** PII after normalisation and SHA-256: each value is 64 lowercase hex characters. */
export interface HashedUserData {
  email?: string;
  phone?: string;
  firstName?: string;
  lastName?: string;
  city?: string;
  state?: string;
  postalCode?: string;
  country?: string;
}
export const USER_DATA_FIELDS = ['email', 'phone', 'firstName', 'lastName', 'city', 'state', 'postalCode', 'country'] as const;
export type UserDataField = (typeof USER_DATA_FIELDS)[number];

export interface EventContext {
  ip?: string;
  userAgent?: string;
  url?: string;
  referrer?: string;
  gclid?: string;
  fbclid?: string;
  msclkid?: string;
}

/** An event as validated by the pipeline, before the store gives it an id. */
export interface CanonicalEvent {
  workspaceId: string;
  type: EventType;
  name: string | null;
  occurredAt: number;
  receivedAt: number;
  idempotencyKey: string | null;
  visitorId: string | null;
  sessionId: string | null;
  userDomain: string | null;
  userId: string | null;
  optimization: string | null;
  variation: string | null;
  value: number | null;
  currency: string | null;
  properties: Record<string, PropertyValue> | null;
  userData: HashedUserData | null;
  context: EventContext | null;
  source: DialectName;
}

export interface StoredEvent extends CanonicalEvent {
  id: number;
}

/**
 * The fields that make two events with one idempotency key "the same content".
 * receivedAt, source and context (ip, user agent, page) are left out: a retry arrives later,
 * possibly from another host or through another dialect, and is still the same conversion.
 */
export const CONTENT_FIELDS = [
  'type', 'name', 'occurredAt', 'visitorId', 'sessionId', 'userDomain', 'userId',
  'optimization', 'variation', 'value', 'currency', 'properties', 'userData',
] as const satisfies readonly (keyof CanonicalEvent)[];
export type ContentField = (typeof CONTENT_FIELDS)[number];
