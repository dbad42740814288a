import type { Clock } from '../core/index.js';
import type { AttributionPreviewer } from '../ingest/index.js';
import type { Store } from '../store/index.js';
import { attributeConversion, type ConversionInput } from './engine.js';
import { explain } from './explain.js';
import { workspaceRules } from './load.js';
import { activityNamedBy } from './scan.js';

/**
 * What `?dryRun=true` says about a conversion: the attribution it would get if stored now. It
 * is judged against the activity of the visitors it could name, found by reading the
 * workspace's columns for their ids (activityNamedBy), not against the whole workspace loaded
 * into memory: on a workspace of ten million views that was seconds and a gigabyte per load.
 */
export function attributionPreviewer(store: Store, clock: Clock): AttributionPreviewer {
  return async (workspaceId, events) => {
    const now = clock.now();
    const { rules, goalsByName, optimizations, isConversion } = await workspaceRules(store, workspaceId);
    const inputs = events.map((e): ConversionInput | null => (e.name === null || !isConversion(e.type, e.name, e.occurredAt) ? null : {
      id: 0, name: e.name, occurredAt: e.occurredAt, receivedAt: e.receivedAt, visitorId: e.visitorId, sessionId: e.sessionId, userDomain: e.userDomain, userId: e.userId,
    }));
    const conversions = inputs.filter((c) => c !== null);
    if (conversions.length === 0) return inputs.map(() => null);
    const ctx = { goalsByName, optimizations, activity: await activityNamedBy(store, workspaceId, now, rules, conversions) };
    return inputs.map((input) => {
      if (input === null) return null;
      const o = attributeConversion(input, ctx);
      return {
        outcome: o.outcome,
        attributions: o.outcome === 'attributed' ? o.attributions.map(({ optimization, variation, viewedAt }) => ({ optimization, variation, viewedAt })) : [],
        reason: o.outcome === 'attributed' ? null : o.reason,
        explanation: explain(input, o, rules),
      };
    });
  };
}
