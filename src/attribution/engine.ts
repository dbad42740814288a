import type { Goal } from '../store/index.js';
import type { ActivityIndex } from './activity.js';
import { goalAt } from './goals.js';
import type { ReasonCode } from './reasons.js';

/** What the rules read of a conversion. */
export interface ConversionInput {
  id: number;
  name: string;
  occurredAt: number;
  receivedAt: number;
  visitorId: string | null;
  sessionId: string | null;
  userDomain: string | null;
  userId: string | null;
}

export interface Attribution {
  optimization: string;
  variation: string;
  viewedAt: number;
  visitorId: string;
}

/** The view that decided a session reason, for explanations. */
export interface DecidingView {
  optimization: string;
  variation: string;
  viewedAt: number;
  visitorId: string;
  sessionStart: number;
  sessionEnd: number;
}

export type Outcome =
  | { outcome: 'attributed'; goalId: number; attributions: Attribution[]; visitors: string[] }
  | { outcome: 'not_attributed'; reason: ReasonCode; goalId: number | null; visitors: string[]; deciding: DecidingView | null };

export interface OptimizationGoals {
  key: string;
  goalIds: readonly number[];
}

export interface EngineContext {
  goalsByName: ReadonlyMap<string, readonly Goal[]>;
  /** Sorted by key: outcomes list optimizations in that order. */
  optimizations: readonly OptimizationGoals[];
  activity: ActivityIndex;
}

/** Rule 2: the visitors a conversion names, sorted (so every run visits them in the same order). */
export function resolveVisitors(c: ConversionInput, activity: ActivityIndex): string[] {
  const found = new Set<string>();
  if (c.visitorId !== null && activity.hasVisitor(c.visitorId)) found.add(c.visitorId);
  if (c.sessionId !== null) for (const v of activity.visitorsOfSession(c.sessionId)) found.add(v);
  if (c.userDomain !== null && c.userId !== null) for (const v of activity.visitorsOfUser(c.userDomain, c.userId, c.receivedAt)) found.add(v);
  return [...found].sort();
}

/** Later view wins; equal times: the later event; then the greater visitor id, so the choice never depends on order. */
function later(a: { viewedAt: number; id: number; visitorId: string }, b: { viewedAt: number; id: number; visitorId: string } | null): boolean {
  if (b === null) return true;
  return a.viewedAt !== b.viewedAt ? a.viewedAt > b.viewedAt : a.id !== b.id ? a.id > b.id : a.visitorId > b.visitorId;
}

/**
 * Applies the rules of spec/attribution.md to one conversion, in order, and returns the first
 * that failed or the variations it is attributed to. Pure: the same inputs, the same outcome.
 */
export function attributeConversion(c: ConversionInput, ctx: EngineContext): Outcome {
  const tc = c.occurredAt;
  const match = goalAt(ctx.goalsByName, c.name, tc);
  if ('reason' in match) return { outcome: 'not_attributed', reason: match.reason, goalId: null, visitors: [], deciding: null };
  const goalId = match.goal.id;

  const visitors = resolveVisitors(c, ctx.activity);
  if (visitors.length === 0) return { outcome: 'not_attributed', reason: 'unknown_user', goalId, visitors, deciding: null };

  const candidates = ctx.optimizations.filter((o) => o.goalIds.includes(goalId));
  if (candidates.length === 0) return { outcome: 'not_attributed', reason: 'goal_not_in_any_optimization', goalId, visitors, deciding: null };

  const attributions: Attribution[] = [];
  type Seen = DecidingView & { id: number; capped: boolean };
  let mostRecent: Seen | null = null;
  for (const o of candidates) {
    let best: (Attribution & { id: number }) | null = null;
    for (const v of visitors) {
      const view = ctx.activity.latestView(v, o.key, tc);
      if (view === null) continue;
      const s = ctx.activity.sessionAt(v, view.t)!;
      const seen: Seen = {
        optimization: o.key, variation: view.variation, viewedAt: view.t, visitorId: v, id: view.id,
        sessionStart: s.start, sessionEnd: s.end, capped: s.capped,
      };
      if (later(seen, mostRecent)) mostRecent = seen;
      if (tc < seen.sessionEnd && later(seen, best)) best = { optimization: o.key, variation: view.variation, viewedAt: view.t, visitorId: v, id: view.id };
    }
    if (best !== null) attributions.push({ optimization: best.optimization, variation: best.variation, viewedAt: best.viewedAt, visitorId: best.visitorId });
  }
  if (attributions.length > 0) return { outcome: 'attributed', goalId, attributions, visitors };
  if (mostRecent === null) return { outcome: 'not_attributed', reason: 'no_view_before_conversion', goalId, visitors, deciding: null };
  const { id: _id, capped, ...deciding } = mostRecent;
  return { outcome: 'not_attributed', reason: capped ? 'session_max_duration' : 'session_expired', goalId, visitors, deciding };
}
