import { variationResults, type VariationCounts, type VariationResults } from '../stats/index.js';
import type { Optimization, Store } from '../store/index.js';
import { countResults } from './result-counts.js';

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
 * the attribution runs recorded (spec/attribution.md §Stats), counted over the workspace's
 * columns (countResults). Ranges go by when views and conversions happened, not when they were
 * received, so a late conversion lands in its own range. A converter counts among its
 * variation's visitors even when its view fell before `from`, so a rate never exceeds 1.
 */
export async function optimizationResults(store: Store, o: Optimization, q: ResultsQuery): Promise<ResultsAnswer> {
  return (await optimizationResultsUntil(store, o, q, [q.to ?? null]))[0]!;
}

/**
 * The results of [q.from, to) for each of `tos` (ascending; null: no end), counted in one reading
 * of the workspace: every point of a results series at the cost of one query.
 */
export async function optimizationResultsUntil(store: Store, o: Optimization, q: Omit<ResultsQuery, 'to'>, tos: readonly (number | null)[]): Promise<ResultsAnswer[]> {
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
  const counted = await countResults(store, o.workspaceId, o.key, goalId, from, tos.map((to) => to ?? Number.POSITIVE_INFINITY));
  const lastRun = (await store.attribution.runs(o.workspaceId, 1))[0];
  return counted.map((counts, i) => {
    const variations: VariationCounts[] = o.variations.map((v) => {
      const c = counts.get(v.key) ?? { visitors: 0, converters: 0, conversions: 0, value: 0 };
      return { key: v.key, visitors: c.visitors, converters: c.converters, conversions: c.conversions, value: Math.round(c.value * 100) / 100 };
    });
    const stats = variationResults({ control: o.control, weights: Object.fromEntries(o.variations.map((v) => [v.key, v.weight])), variations });
    return { optimization: o.key, goal: currentName(goalId), from: q.from ?? null, to: tos[i]!, computedAt: lastRun?.finishedAt ?? null, ...stats };
  });
}
