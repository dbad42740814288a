import type { Clock } from '../core/index.js';
import type { AttributionPreviewer } from '../ingest/index.js';
import type { Store } from '../store/index.js';
import { attributeConversion } from './engine.js';
import { explain } from './explain.js';
import { goalAt } from './goals.js';
import { loadWorkspace, type Loaded } from './runner.js';

/**
 * What `?dryRun=true` says about a conversion: the attribution it would get if stored now,
 * judged against the workspace as the last `ttlMs` saw it (loading a workspace reads all its
 * events, so repeated dry runs share one load).
 */
export function attributionPreviewer(store: Store, clock: Clock, ttlMs = 10_000): AttributionPreviewer {
  const cache = new Map<string, { loaded: Loaded; until: number }>();
  return async (workspaceId, events) => {
    const now = clock.now();
    let hit = cache.get(workspaceId);
    if (hit === undefined || hit.until <= now) {
      hit = { loaded: await loadWorkspace(store, workspaceId, now), until: now + ttlMs };
      cache.set(workspaceId, hit);
    }
    const { ctx, rules } = hit.loaded;
    return events.map((e) => {
      if (e.name === null) return null;
      if (e.type !== 'conversion' && !(e.type === 'custom' && 'goal' in goalAt(ctx.goalsByName, e.name, e.occurredAt))) return null;
      const input = { id: 0, name: e.name, occurredAt: e.occurredAt, receivedAt: e.receivedAt, visitorId: e.visitorId, sessionId: e.sessionId, userDomain: e.userDomain, userId: e.userId };
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
