import type { DecidingDetail, Goal } from '../store/index.js';
import { VisitorSet, type ActivityIndex, type SessionSpan } from './activity.js';
import type { Fingerprint } from './fingerprint.js';
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

/** The view that decided a session reason, for explanations (as the store keeps it in an outcome's detail). */
export type DecidingView = DecidingDetail;

export type Outcome =
  | { outcome: 'attributed'; goalId: number; attributions: Attribution[]; visitors: string[] }
  | { outcome: 'not_attributed'; reason: ReasonCode; goalId: number | null; visitors: string[]; deciding: DecidingView | null };

export interface OptimizationGoals {
  key: string;
  goalIds: readonly number[];
  /** Its variations' keys (a run judging on two threads numbers them as words first: judge-thread.ts). */
  variations?: readonly string[];
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

/** Rule 2, by number: the visitors a conversion names into `out`, ordered by their ids (so every run visits them in the same order). */
function resolveVisitorIds(c: ConversionRef, activity: ActivityIndex, out: VisitorSet): void {
  out.clear();
  if (activity.isVisitor(c.visitor)) out.add(c.visitor);
  if (c.session >= 0) activity.addVisitorsOfSession(c.session, out);
  if (c.domain >= 0 && c.user >= 0) activity.addVisitorsOfUser(c.domain, c.user, c.receivedAt, out);
  if (out.size > 1) out.items.subarray(0, out.size).sort((a, b) => activity.compareIds(a, b));
}

/** Whether a conversion names at least one visitor (rule 2), whatever its goal: data quality's match. */
export function namesAVisitor(c: ConversionRef, activity: ActivityIndex, scratch: VisitorSet): boolean {
  resolveVisitorIds(c, activity, scratch);
  return scratch.size > 0;
}

/** Rule 2: the visitors a conversion names, sorted (so every run visits them in the same order). */
export function resolveVisitors(c: ConversionInput, activity: ActivityIndex): string[] {
  const out = new VisitorSet();
  resolveVisitorIds(toRef(c, activity), activity, out);
  return out.toArray().map((v) => activity.nameOf(v));
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
  return judge(toRef(c, ctx.activity), ctx, new Judgement()).outcome(ctx.activity);
}

/** A view seen by judge(), in numbers. */
class SeenView {
  found = false;
  optimization = '';
  variation = -1;
  viewedAt = 0;
  viewId = 0;
  visitor = -1;
  sessionStart = 0;
  sessionEnd = 0;
  capped = false;

  /** Later view wins; equal times: the later event; then the greater visitor id, so the choice never depends on order. */
  isBeatenBy(t: number, id: number, visitor: number, a: ActivityIndex): boolean {
    if (!this.found) return true;
    return t !== this.viewedAt ? t > this.viewedAt : id !== this.viewId ? id > this.viewId : a.compareIds(visitor, this.visitor) > 0;
  }

  copy(x: SeenView): void {
    this.found = x.found;
    this.optimization = x.optimization;
    this.variation = x.variation;
    this.viewedAt = x.viewedAt;
    this.viewId = x.viewId;
    this.visitor = x.visitor;
    this.sessionStart = x.sessionStart;
    this.sessionEnd = x.sessionEnd;
    this.capped = x.capped;
  }

  take(optimization: string, variation: number, t: number, id: number, visitor: number, s: SessionSpan): void {
    this.found = true;
    this.optimization = optimization;
    this.variation = variation;
    this.viewedAt = t;
    this.viewId = id;
    this.visitor = visitor;
    this.sessionStart = s.start;
    this.sessionEnd = s.end;
    this.capped = s.capped;
  }
}

/**
 * A conversion's outcome in numbers (strings as the activity index numbers them), filled by
 * judge() and reused from one conversion to the next: a run fingerprints it to see whether the
 * stored outcome changed, and makes the Outcome object only for those that did.
 */
export class Judgement {
  /** null: attributed. */
  reason: ReasonCode | null = null;
  goalId: number | null = null;
  readonly visitors = new VisitorSet();
  /** The attributions, one per optimization (in the candidates' order). */
  attributions: SeenView[] = [];
  attributionCount = 0;
  /** For the session reasons: the most recent view, which decided it. */
  readonly deciding = new SeenView();
  readonly #best = new SeenView();
  readonly #session: SessionSpan = { start: 0, end: 0, capped: false };

  reset(): void {
    this.reason = null;
    this.goalId = null;
    this.visitors.clear();
    this.attributionCount = 0;
    this.deciding.found = false;
  }

  /** The rules' loop for one optimization: the best view in session, and the most recent at all. */
  consider(o: { key: string; id: number }, tc: number, a: ActivityIndex): void {
    const best = this.#best;
    best.found = false;
    const ids = this.visitors;
    for (let k = 0; k < ids.size; k++) {
      const v = ids.items[k]!;
      const i = a.latestViewIndex(v, o.id, tc);
      if (i < 0) continue;
      const t = a.viewTime(i);
      const id = a.viewEventId(i);
      a.sessionAtInto(v, t, this.#session);
      const variation = a.viewVariationId(i);
      if (this.deciding.isBeatenBy(t, id, v, a)) this.deciding.take(o.key, variation, t, id, v, this.#session);
      if (tc < this.#session.end && best.isBeatenBy(t, id, v, a)) best.take(o.key, variation, t, id, v, this.#session);
    }
    if (!best.found) return;
    if (this.attributionCount === this.attributions.length) this.attributions.push(new SeenView());
    this.attributions[this.attributionCount++]!.copy(best);
  }

  /** The fingerprint of the Outcome this stands for, equal to outcomeFingerprint(this.outcome(a)), without making it. */
  fingerprint(a: ActivityIndex, f: Fingerprint): number {
    f.reset().str(this.reason === null ? 'attributed' : 'not_attributed').num(this.goalId);
    if (this.reason === null) {
      f.num(this.attributionCount);
      for (let k = 0; k < this.attributionCount; k++) {
        const x = this.attributions[k]!;
        f.str(x.optimization);
        a.fingerprintName(f, x.variation);
        f.num(x.viewedAt);
        a.fingerprintName(f, x.visitor);
      }
    } else {
      f.str(this.reason);
      const d = this.deciding;
      if (!this.hasDeciding()) f.str(null);
      else {
        f.str(d.optimization);
        a.fingerprintName(f, d.variation);
        f.num(d.viewedAt);
        a.fingerprintName(f, d.visitor);
        f.num(d.sessionStart).num(d.sessionEnd);
      }
    }
    f.num(this.visitors.size);
    for (let k = 0; k < this.visitors.size; k++) a.fingerprintName(f, this.visitors.items[k]!);
    return f.value();
  }

  /** Whether the outcome names the view that decided it (the session reasons). */
  hasDeciding(): boolean {
    return this.deciding.found && (this.reason === 'session_expired' || this.reason === 'session_max_duration');
  }

  /** The Outcome this stands for. */
  outcome(a: ActivityIndex): Outcome {
    const visitors = this.visitors.toArray().map((v) => a.nameOf(v));
    if (this.reason === null) {
      const attributions: Attribution[] = [];
      for (let k = 0; k < this.attributionCount; k++) {
        const x = this.attributions[k]!;
        attributions.push({ optimization: x.optimization, variation: a.nameOf(x.variation), viewedAt: x.viewedAt, visitorId: a.nameOf(x.visitor) });
      }
      return { outcome: 'attributed', goalId: this.goalId!, attributions, visitors };
    }
    const d = this.deciding;
    const deciding: DecidingView | null = this.hasDeciding()
      ? { optimization: d.optimization, variation: a.nameOf(d.variation), viewedAt: d.viewedAt, visitorId: a.nameOf(d.visitor), sessionStart: d.sessionStart, sessionEnd: d.sessionEnd }
      : null;
    return { outcome: 'not_attributed', reason: this.reason, goalId: this.goalId, visitors, deciding };
  }
}

/**
 * Applies the rules of spec/attribution.md to one conversion, in order, into `j`: the first rule
 * that failed, or the variations it is attributed to. Pure: the same inputs, the same judgement.
 */
export function judge(c: ConversionRef, ctx: EngineContext, j: Judgement): Judgement {
  j.reset();
  const tc = c.occurredAt;
  const match = goalAt(ctx.goalsByName, c.name, tc);
  if ('reason' in match) {
    j.reason = match.reason;
    return j;
  }
  j.goalId = match.goal.id;
  const a = ctx.activity;
  resolveVisitorIds(c, a, j.visitors);
  if (j.visitors.size === 0) {
    j.reason = 'unknown_user';
    return j;
  }
  const candidates = candidatesOf(ctx, j.goalId);
  if (candidates.length === 0) {
    j.reason = 'goal_not_in_any_optimization';
    return j;
  }
  for (const o of candidates) j.consider(o, tc, a);
  if (j.attributionCount > 0) return j;
  const d = j.deciding;
  j.reason = !d.found ? 'no_view_before_conversion' : d.capped ? 'session_max_duration' : 'session_expired';
  return j;
}
