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

/** A conversion with its ids numbered by the activity index (-1: absent or never seen): what a run's hot loop reads. */
export interface ConversionRef {
  id: number;
  name: string;
  occurredAt: number;
  receivedAt: number;
  visitor: number;
  session: number;
  domain: number;
  user: number;
}

/** A conversion's ids, numbered by the activity index. */
export function toRef(c: ConversionInput, activity: ActivityIndex): ConversionRef {
  return {
    id: c.id, name: c.name, occurredAt: c.occurredAt, receivedAt: c.receivedAt,
    visitor: activity.idOf(c.visitorId), session: activity.idOf(c.sessionId), domain: activity.idOf(c.userDomain), user: activity.idOf(c.userId),
  };
}

/** Rule 2, by number: the visitors a conversion names, ordered by their ids (so every run visits them in the same order). */
function resolveVisitorIds(c: ConversionRef, activity: ActivityIndex): number[] {
  const found: number[] = [];
  if (activity.isVisitor(c.visitor)) found.push(c.visitor);
  if (c.session >= 0) for (const v of activity.visitorsOfSessionId(c.session)) if (!found.includes(v)) found.push(v);
  if (c.domain >= 0 && c.user >= 0) for (const v of activity.visitorsOfUserId(c.domain, c.user, c.receivedAt)) if (!found.includes(v)) found.push(v);
  if (found.length > 1) found.sort((a, b) => activity.compareIds(a, b));
  return found;
}

/** Rule 2: the visitors a conversion names, sorted (so every run visits them in the same order). */
export function resolveVisitors(c: ConversionInput, activity: ActivityIndex): string[] {
  return resolveVisitorIds(toRef(c, activity), activity).map((v) => activity.nameOf(v));
}

/** Later view wins; equal times: the later event; then the greater visitor id, so the choice never depends on order. */
function later(a: { viewedAt: number; id: number; visitorId: string }, b: { viewedAt: number; id: number; visitorId: string } | null): boolean {
  if (b === null) return true;
  return a.viewedAt !== b.viewedAt ? a.viewedAt > b.viewedAt : a.id !== b.id ? a.id > b.id : a.visitorId > b.visitorId;
}

/** Per context, per goal: the optimizations that have it, with their keys numbered. */
const candidatesCache = new WeakMap<EngineContext, Map<number, { key: string; id: number }[]>>();

function candidatesOf(ctx: EngineContext, goalId: number): { key: string; id: number }[] {
  let byGoal = candidatesCache.get(ctx);
  if (byGoal === undefined) candidatesCache.set(ctx, (byGoal = new Map()));
  let list = byGoal.get(goalId);
  if (list === undefined) {
    list = ctx.optimizations.filter((o) => o.goalIds.includes(goalId)).map((o) => ({ key: o.key, id: ctx.activity.idOf(o.key) }));
    byGoal.set(goalId, list);
  }
  return list;
}

/**
 * Applies the rules of spec/attribution.md to one conversion, in order, and returns the first
 * that failed or the variations it is attributed to. Pure: the same inputs, the same outcome.
 */
export function attributeConversion(c: ConversionInput, ctx: EngineContext): Outcome {
  return attributeRef(toRef(c, ctx.activity), ctx);
}

/** attributeConversion for a conversion whose ids are already numbered (a run's hot loop). */
export function attributeRef(c: ConversionRef, ctx: EngineContext): Outcome {
  const tc = c.occurredAt;
  const match = goalAt(ctx.goalsByName, c.name, tc);
  if ('reason' in match) return { outcome: 'not_attributed', reason: match.reason, goalId: null, visitors: [], deciding: null };
  const goalId = match.goal.id;
  const a = ctx.activity;

  const ids = resolveVisitorIds(c, a);
  const visitors = ids.map((v) => a.nameOf(v));
  if (ids.length === 0) return { outcome: 'not_attributed', reason: 'unknown_user', goalId, visitors, deciding: null };

  const candidates = candidatesOf(ctx, goalId);
  if (candidates.length === 0) return { outcome: 'not_attributed', reason: 'goal_not_in_any_optimization', goalId, visitors, deciding: null };

  const attributions: Attribution[] = [];
  type Seen = DecidingView & { id: number; capped: boolean };
  let mostRecent: Seen | null = null;
  for (const o of candidates) {
    let best: (Attribution & { id: number }) | null = null;
    for (let k = 0; k < ids.length; k++) {
      const v = ids[k]!;
      const i = a.latestViewIndex(v, o.id, tc);
      if (i < 0) continue;
      const t = a.viewTime(i);
      const s = a.sessionAtId(v, t)!;
      const seen: Seen = {
        optimization: o.key, variation: a.viewVariation(i), viewedAt: t, visitorId: visitors[k]!, id: a.viewEventId(i),
        sessionStart: s.start, sessionEnd: s.end, capped: s.capped,
      };
      if (later(seen, mostRecent)) mostRecent = seen;
      if (tc < seen.sessionEnd && later(seen, best)) best = { optimization: o.key, variation: seen.variation, viewedAt: t, visitorId: seen.visitorId, id: seen.id };
    }
    if (best !== null) attributions.push({ optimization: best.optimization, variation: best.variation, viewedAt: best.viewedAt, visitorId: best.visitorId });
  }
  if (attributions.length > 0) return { outcome: 'attributed', goalId, attributions, visitors };
  if (mostRecent === null) return { outcome: 'not_attributed', reason: 'no_view_before_conversion', goalId, visitors, deciding: null };
  const { id: _id, capped, ...deciding } = mostRecent;
  return { outcome: 'not_attributed', reason: capped ? 'session_max_duration' : 'session_expired', goalId, visitors, deciding };
}
