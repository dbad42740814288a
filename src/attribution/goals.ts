import type { Goal } from '../store/index.js';
import type { ReasonCode } from './reasons.js';

export type GoalMatch = { goal: Goal; apiName: string } | { reason: Extract<ReasonCode, 'goal_not_created_yet' | 'goal_renamed' | 'unknown_goal'> };

/**
 * Rule 1: the goal whose API name was `name` at time `tc` (validFrom ≤ tc < validTo).
 * Otherwise why not: a goal with that name created after tc, one that had the name only at
 * another time, or none ever.
 */
export function goalAt(goalsByName: ReadonlyMap<string, readonly Goal[]>, name: string, tc: number): GoalMatch {
  const candidates = goalsByName.get(name);
  if (candidates === undefined || candidates.length === 0) return { reason: 'unknown_goal' };
  for (const goal of candidates) {
    for (const h of goal.history) {
      if (h.apiName === name && h.validFrom <= tc && (h.validTo === null || tc < h.validTo)) return { goal, apiName: name };
    }
  }
  return { reason: candidates.some((g) => g.createdAt > tc) ? 'goal_not_created_yet' : 'goal_renamed' };
}

/** Every name any goal ever had → those goals. */
export function indexGoalsByName(goals: readonly Goal[]): Map<string, Goal[]> {
  const out = new Map<string, Goal[]>();
  for (const g of goals) {
    for (const h of g.history) {
      const list = out.get(h.apiName) ?? [];
      if (!list.includes(g)) list.push(g);
      out.set(h.apiName, list);
    }
  }
  return out;
}
