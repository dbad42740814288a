import type { Clock } from '../core/index.js';
import { variationResults, type VariationCounts, type VariationResults } from '../stats/index.js';
import type { Optimization, Store } from '../store/index.js';
import { loadWorkspace } from './runner.js';

export interface ResultsQuery {
  /** A goal's current API name; default: the optimization's primary goal. */
  goal?: string;
  /** Conversion and view times in [from, to); defaults: from the beginning, with no end. */
  from?: number;
  to?: number;
}

export interface ResultsAnswer extends VariationResults {
  optimization: string;
  goal: string;
  from: number | null;
  to: number | null;
  /** When the attribution run these results come from finished; null when none has run. */
  computedAt: number | null;
}

export class ResultsError extends Error {
  override name = 'ResultsError';
}

/**
 * Per-variation results of an optimization for one goal over a time range, from the outcomes
 * the last attribution run recorded (spec/attribution.md §Stats). Ranges go by when views and
 * conversions happened, not when they were received, so a late conversion lands in its own range.
 */
export async function optimizationResults(store: Store, clock: Clock, o: Optimization, q: ResultsQuery): Promise<ResultsAnswer> {
  const goals = await store.goals.list(o.workspaceId);
  const byId = new Map(goals.map((g) => [g.id, g]));
  const currentName = (id: number) => byId.get(id)?.history.at(-1)?.apiName ?? `#${id}`;
  let goalId = o.primaryGoalId;
  if (q.goal !== undefined) {
    const found = o.goalIds.find((id) => currentName(id) === q.goal);
    if (found === undefined) throw new ResultsError(`"${q.goal}" is not a goal of optimization "${o.key}"; its goals are ${o.goalIds.map(currentName).join(', ')}.`);
    goalId = found;
  }
  const from = q.from ?? Number.NEGATIVE_INFINITY;
  const to = q.to ?? Number.POSITIVE_INFINITY;
  const loaded = await loadWorkspace(store, o.workspaceId, clock.now());
  const outcomes = await store.attribution.outcomes(o.workspaceId);
  const viewers = loaded.ctx.activity.viewersByVariation(o.key, from, to);
  const counts = new Map<string, { converters: Set<string>; conversions: number; value: number }>(o.variations.map((v) => [v.key, { converters: new Set(), conversions: 0, value: 0 }]));
  for (const c of loaded.conversions) {
    if (c.occurredAt < from || c.occurredAt >= to) continue;
    const outcome = outcomes.get(c.id);
    if (outcome === undefined || outcome.outcome !== 'attributed' || outcome.goalId !== goalId) continue;
    for (const a of outcome.attributions) {
      if (a.optimization !== o.key) continue;
      const k = counts.get(a.variation);
      if (k === undefined) continue;
      k.converters.add(a.visitorId);
      k.conversions++;
      k.value += c.value ?? 0;
    }
  }
  const variations: VariationCounts[] = o.variations.map((v) => {
    const k = counts.get(v.key)!;
    // A converter counts among the visitors even when the view that led to it fell before `from`.
    const visitors = new Set([...(viewers.get(v.key) ?? []), ...k.converters]);
    return { key: v.key, visitors: visitors.size, converters: k.converters.size, conversions: k.conversions, value: Math.round(k.value * 100) / 100 };
  });
  const stats = variationResults({ control: o.control, weights: Object.fromEntries(o.variations.map((v) => [v.key, v.weight])), variations });
  const lastRun = (await store.attribution.runs(o.workspaceId, 1))[0];
  return {
    optimization: o.key, goal: currentName(goalId), from: q.from ?? null, to: q.to ?? null, computedAt: lastRun?.finishedAt ?? null, ...stats,
  };
}
