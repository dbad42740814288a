import { ingestError, ok, reject, type Result } from '../../core/index.js';
import { readTimestamp, type EventDraft, type ParseContext } from '../../ingest/index.js';
import { checker } from '../shared/index.js';
import { NativeEventSchema } from './schema.js';

const check = checker(NativeEventSchema);

/** One native event → a draft, with the per-type rules of spec/api.md §2. */
export function nativeToDraft(item: unknown, ctx: ParseContext): Result<EventDraft> {
  const checked = check(item, ctx.at);
  if (!checked.ok) return checked;
  const e = checked.value;
  const at = ctx.at;
  const missing = (field: string, why: string) => reject<EventDraft>(ingestError('field_required', `${at}${field} is required ${why}.`, { field: `${at}${field}` }));

  if ((e.type === 'conversion' || e.type === 'custom') && e.name === undefined) return missing('name', `for a ${e.type} event (the goal's API name)`);
  if (e.type === 'view' && e.optimization === undefined) return missing('optimization', 'for a view event (the optimization key)');
  if (e.type === 'view' && e.variation === undefined) return missing('variation', 'for a view event (the variation key)');
  if ((e.userDomain === undefined) !== (e.userId === undefined) || (e.type === 'identify' && e.userDomain === undefined)) {
    const absent = e.userDomain === undefined ? 'userDomain' : 'userId';
    return missing(absent, e.type === 'identify' ? 'for an identify event' : 'together with ' + (absent === 'userId' ? 'userDomain' : 'userId'));
  }
  if (e.type === 'conversion' && e.visitorId === undefined && e.sessionId === undefined && e.userDomain === undefined) {
    const where = at === '' ? '' : `${at.slice(0, -1)}: `;
    return reject(ingestError('not_linkable', `${where}a conversion must carry visitorId, sessionId, or userDomain and userId, so it can be linked to a visitor.`, { field: `${at}visitorId` }));
  }
  let occurredAt = ctx.now;
  if (e.timestamp !== undefined) {
    const t = readTimestamp(e.timestamp, `${at}timestamp`, { now: ctx.now, settings: ctx.settings, accept: 'ms-or-iso' });
    if (!t.ok) return t;
    occurredAt = t.value;
  }
  const context = e.url !== undefined || e.referrer !== undefined
    ? { ...(e.url !== undefined ? { url: e.url } : {}), ...(e.referrer !== undefined ? { referrer: e.referrer } : {}) }
    : null;
  return ok({
    type: e.type,
    name: e.name ?? null,
    occurredAt,
    timestampGiven: e.timestamp !== undefined,
    idempotencyKey: e.idempotencyKey ?? ctx.idempotencyKeyHeader,
    visitorId: e.visitorId ?? null,
    sessionId: e.sessionId ?? null,
    userDomain: e.userDomain ?? null,
    userId: e.userId ?? null,
    optimization: e.optimization ?? null,
    variation: e.variation ?? null,
    value: e.value ?? null,
    currency: e.currency?.toUpperCase() ?? null,
    properties: e.properties !== undefined && Object.keys(e.properties).length > 0 ? e.properties : null,
    userData: e.userData ?? null,
    context,
  });
}
