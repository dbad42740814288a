import { ok, type EventContext, type Result, type UserDataField } from '../../core/index.js';
import { readTimestamp, type EventDraft, type ParseContext } from '../../ingest/index.js';
import { checker, scalarProperties } from '../shared/index.js';
import { ConvultraEventSchema } from './schema.js';

const check = checker(ConvultraEventSchema);

/**
 * Events whose order_id is their idempotency key (spec/api.md §4: "purchase-like"). A refund or
 * cancellation that names the same order is a different event, so it is not in this list.
 */
const PURCHASE_LIKE = /purchase|order|checkout|payment|transaction|sale|subscri/i;
const NOT_PURCHASE = /refund|cancel|return|chargeback|void/i;

/** The userDomain convultra's user_id links through: setUserId("default", id), or setUserId(id). */
export const CONVULTRA_USER_DOMAIN = 'default';

const USER_DATA: Record<string, UserDataField> = {
  email: 'email', phone: 'phone', first_name: 'firstName', last_name: 'lastName', city: 'city', state: 'state', postal_code: 'postalCode', country: 'country',
};
const CONTEXT: Record<string, keyof EventContext> = {
  ip: 'ip', user_agent: 'userAgent', page_url: 'url', referrer: 'referrer', gclid: 'gclid', fbclid: 'fbclid', msclkid: 'msclkid',
};

export function isPurchaseLike(eventType: string): boolean {
  return PURCHASE_LIKE.test(eventType) && !NOT_PURCHASE.test(eventType);
}

export function convultraToDraft(item: unknown, ctx: ParseContext): Result<EventDraft> {
  const checked = check(item, ctx.at);
  if (!checked.ok) return checked;
  const e = checked.value;
  let occurredAt = ctx.now;
  if (e.timestamp !== undefined) {
    const t = readTimestamp(e.timestamp, `${ctx.at}timestamp`, { now: ctx.now, settings: ctx.settings, accept: 'ms-or-iso' });
    if (!t.ok) return t;
    occurredAt = t.value;
  }
  const props = { ...(e.properties ?? {}) } as Record<string, unknown>;
  const orderId = props.order_id === undefined ? null : String(props.order_id);
  const value = props.value === undefined || props.value === null ? null : Number(props.value);
  const currency = typeof props.currency === 'string' ? props.currency.toUpperCase() : null;
  delete props.value;
  delete props.currency;
  const properties = scalarProperties(props, `${ctx.at}properties`);
  if (!properties.ok) return properties;

  const userData: Partial<Record<UserDataField, string>> = {};
  // Own keys only: a sender's "toString" or "constructor" must not find Object.prototype's.
  for (const [k, v] of Object.entries(e.user_data ?? {})) {
    const field = Object.hasOwn(USER_DATA, k) ? USER_DATA[k] : undefined;
    if (field !== undefined && typeof v === 'string') userData[field] = v;
  }
  const context: EventContext = {};
  for (const [k, v] of Object.entries(e.context ?? {})) {
    const field = Object.hasOwn(CONTEXT, k) ? CONTEXT[k] : undefined;
    if (field !== undefined && typeof v === 'string' && v !== '') context[field] = v;
  }
  const userId = e.user_id === undefined ? null : String(e.user_id);
  return ok({
    type: 'conversion',
    name: e.event_type,
    occurredAt,
    timestampGiven: e.timestamp !== undefined,
    idempotencyKey: orderId !== null && isPurchaseLike(e.event_type) ? orderId : ctx.idempotencyKeyHeader,
    visitorId: null,
    sessionId: e.session_id ?? e.context?.session_id ?? null,
    userDomain: userId === null ? null : CONVULTRA_USER_DOMAIN,
    userId,
    optimization: null,
    variation: null,
    value,
    currency,
    properties: properties.value,
    userData: Object.keys(userData).length === 0 ? null : userData,
    context: Object.keys(context).length === 0 ? null : context,
  });
}
