import { effectiveSettings } from '../config/index.js';
import { redactText } from '../ingest/index.js';
import type { ApiKeyRecord, Goal, Optimization, Rejection, Workspace } from '../store/index.js';

/** How each resource looks on the wire. Secrets and hashes never appear here. */
export const workspaceView = (w: Workspace) => ({ id: w.id, name: w.name, settings: effectiveSettings(w.settings), overrides: w.settings, createdAt: w.createdAt });

export const keyView = (k: ApiKeyRecord) => ({
  id: k.id, name: k.name, kind: k.kind, prefix: k.prefix, rateLimitPerMinute: k.rateLimitPerMinute,
  createdAt: k.createdAt, revokedAt: k.revokedAt, status: k.revokedAt === null ? 'active' : 'revoked',
});

export const goalView = (g: Goal) => ({
  id: g.id, apiName: g.history.at(-1)?.apiName ?? null, name: g.name, createdAt: g.createdAt, history: g.history,
});

export function optimizationView(o: Optimization, goals: Map<number, Goal>) {
  const apiName = (id: number) => goals.get(id)?.history.at(-1)?.apiName ?? `#${id}`;
  return {
    key: o.key, name: o.name, status: o.status, variations: o.variations, control: o.control,
    goals: o.goalIds.map(apiName), primaryGoal: apiName(o.primaryGoalId), createdAt: o.createdAt, updatedAt: o.updatedAt,
  };
}

export function rejectionView(r: Rejection) {
  let body: unknown = r.raw;
  try {
    body = JSON.parse(r.raw);
  } catch {
    // kept as text: it was not JSON when it arrived
  }
  return {
    id: r.id, receivedAt: r.receivedAt, dialect: r.dialect, endpoint: r.route.url, params: r.route.params, index: r.index,
    // The sentence may quote the request (an idempotency key, a value): no email or phone in the answer.
    code: r.code, message: redactText(r.message), field: r.field, body, replayedAt: r.replayedAt, replayedEventId: r.replayedEventId,
  };
}
