import { ingestError, ok, reject, type Result } from '../../core/index.js';
import { readTimestamp, type EventDraft, type ParseContext } from '../../ingest/index.js';
import { checker } from '../shared/index.js';
import { CollectEventSchema } from './schema.js';

const check = checker(CollectEventSchema);

/** Epoch ms below this (1973-03-03) can only be seconds sent where milliseconds belong. */
const SECONDS_CEILING = 100_000_000_000;

/** What each event type needs, beyond the schema. */
const REQUIRED: Record<string, readonly ('name' | 'optimization' | 'variation' | 'userDomain' | 'userId')[]> = {
  custom: ['name'],
  view: ['optimization', 'variation'],
  identify: ['userDomain', 'userId'],
  pageview: [],
};

/**
 * One browser event (the batch's visitorId, sessionId and sentAt already laid under it) → a
 * draft. Its time is corrected for the browser's clock: it happened `sentAt − time` before the
 * request was sent, so `occurredAt = receivedAt − (sentAt − time)` (spec/api.md §7), and never
 * after the request arrived.
 */
export function collectToDraft(item: unknown, ctx: ParseContext): Result<EventDraft> {
  const checked = check(item, ctx.at);
  if (!checked.ok) return checked;
  const e = checked.value;
  const at = ctx.at;
  const missing = (field: string, why: string) => reject<EventDraft>(ingestError('field_required', `${at}${field} is required ${why}.`, { field: `${at}${field}` }));

  if (e.visitorId === undefined) return missing('visitorId', '(on the batch, or on the event)');
  if (e.sentAt === undefined) return missing('sentAt', '(on the batch, or on the event): the browser\'s clock when it sent the request');
  for (const field of REQUIRED[e.type]!) if (e[field] === undefined) return missing(field, `for a ${e.type} event`);
  if ((e.userDomain === undefined) !== (e.userId === undefined)) return missing(e.userDomain === undefined ? 'userDomain' : 'userId', 'together with the other of userDomain and userId');
  for (const [field, value] of [['time', e.time], ['sentAt', e.sentAt]] as const) {
    if (value >= 0 && value < SECONDS_CEILING) {
      return reject(ingestError('timestamp_in_seconds', `${at}${field} ${value} looks like UNIX seconds; send UNIX milliseconds (Date.now()).`, { field: `${at}${field}` }));
    }
  }
  const corrected = Math.min(ctx.now, ctx.now - (e.sentAt - e.time));
  const t = readTimestamp(corrected, `${at}time`, { now: ctx.now, settings: ctx.settings, accept: 'ms' });
  if (!t.ok) return t;

  const context = {
    ...(e.url ? { url: e.url } : {}),
    ...(e.referrer ? { referrer: e.referrer } : {}),
  };
  const visitorId = e.visitorId.toLowerCase();
  return ok({
    type: e.type,
    name: e.name ?? null,
    occurredAt: t.value,
    // A retried batch corrects the same event to a slightly different instant: it is the same
    // event by its id, so its time is not compared with the first one's.
    timestampGiven: false,
    // Namespaced by visitor: a page (whose key is public) cannot claim a backend's idempotency key.
    idempotencyKey: `collect:${visitorId}:${e.id}`,
    visitorId,
    sessionId: e.sessionId ?? null,
    userDomain: e.userDomain ?? null,
    userId: e.userId ?? null,
    optimization: e.optimization ?? null,
    variation: e.variation ?? null,
    value: null,
    currency: null,
    properties: e.properties !== undefined && Object.keys(e.properties).length > 0 ? e.properties : null,
    userData: null,
    context: Object.keys(context).length === 0 ? null : context,
  });
}
