import type { Clock } from '../core/index.js';
import type { ScannedEvent, Store } from '../store/index.js';
import { resolveVisitors } from './engine.js';
import { eachEvent, loadWorkspace } from './runner.js';

interface Match { conversions: number; matched: number; matchRate: number | null }
const rate = (m: { conversions: number; matched: number }): Match => ({ ...m, matchRate: m.conversions === 0 ? null : m.matched / m.conversions });

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/**
 * GET …/data-quality: how many conversions could be tied to a visitor, per userDomain and per
 * dialect; how late conversions arrive (received − occurred); and why events were refused.
 */
export async function dataQuality(store: Store, clock: Clock, workspaceId: string) {
  const loaded = await loadWorkspace(store, workspaceId, clock.now());
  const byDomain = new Map<string, { conversions: number; matched: number }>();
  const byDialect = new Map<string, { conversions: number; matched: number }>();
  const lags = new Map<string, number[]>();
  for (const c of loaded.conversions) {
    const matched = resolveVisitors(c, loaded.ctx.activity).length > 0 ? 1 : 0;
    const domain = c.userDomain ?? (c.sessionId !== null ? '(sessionId)' : c.visitorId !== null ? '(visitorId)' : '(none)');
    const dialect = c.source;
    for (const [map, key] of [[byDomain, domain], [byDialect, dialect]] as const) {
      const m = map.get(key) ?? { conversions: 0, matched: 0 };
      m.conversions++;
      m.matched += matched;
      map.set(key, m);
    }
    const list = lags.get(dialect) ?? [];
    list.push(Math.max(0, c.receivedAt - c.occurredAt));
    lags.set(dialect, list);
  }
  const ingestionLagMs = Object.fromEntries([...lags].map(([d, list]) => {
    list.sort((a, b) => a - b);
    return [d, { p50: percentile(list, 0.5), p90: percentile(list, 0.9), p99: percentile(list, 0.99), max: list.at(-1) ?? null }];
  }));
  const total = [...byDialect.values()].reduce((a, m) => ({ conversions: a.conversions + m.conversions, matched: a.matched + m.matched }), { conversions: 0, matched: 0 });
  return {
    workspace: workspaceId,
    computedAt: clock.now(),
    matchRate: { overall: rate(total), byUserDomain: Object.fromEntries([...byDomain].map(([k, m]) => [k, rate(m)])), byDialect: Object.fromEntries([...byDialect].map(([k, m]) => [k, rate(m)])) },
    ingestionLagMs,
    rejections: await store.rejections.countByCode(workspaceId),
  };
}

/**
 * A journey (GET …/visitors/{id} and …/users/{domain}/{id}): the visitors' sessions, and their
 * views, identities and conversions in time order, each conversion with its recorded outcome.
 */
export async function journey(store: Store, clock: Clock, workspaceId: string, who: { visitorId: string } | { userDomain: string; userId: string }) {
  const loaded = await loadWorkspace(store, workspaceId, clock.now());
  const activity = loaded.ctx.activity;
  const visitors = 'visitorId' in who
    ? (activity.hasVisitor(who.visitorId) ? [who.visitorId] : [])
    : [...new Set(activity.visitorsOfUser(who.userDomain, who.userId, Number.POSITIVE_INFINITY))].sort();
  const mine = new Set(visitors);
  const conversionIds = new Set<number>();
  for (const c of loaded.conversions) {
    const theirs = ('userDomain' in who && c.userDomain === who.userDomain && c.userId === who.userId) || resolveVisitors(c, activity).some((v) => mine.has(v));
    if (theirs) conversionIds.add(c.id);
  }
  const outcomes = await store.attribution.outcomesOf(workspaceId, [...conversionIds]);
  const events: (ScannedEvent & { outcome?: unknown })[] = [];
  await eachEvent(store, workspaceId, clock.now(), (e) => {
    if (conversionIds.has(e.id)) {
      const o = outcomes.get(e.id);
      events.push({ ...e, outcome: o === undefined ? 'pending' : { outcome: o.outcome, reason: o.reason, attributions: o.attributions } });
    } else if (e.visitorId !== null && mine.has(e.visitorId)) {
      events.push(e);
    }
  });
  events.sort((a, b) => a.occurredAt - b.occurredAt || a.id - b.id);
  return {
    ...who,
    visitors: visitors.map((v) => {
      const s = activity.sessions(v);
      return { visitorId: v, sessions: s.starts.map((start, i) => ({ start, end: s.ends[i]!, endedBy: s.capped[i] ? 'max_duration' : 'inactivity' })) };
    }),
    events,
  };
}
