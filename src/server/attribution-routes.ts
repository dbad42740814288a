import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WorkspaceIdSchema } from '../admin/index.js';
import type { AdminService } from '../admin/index.js';
import { AttributionRunner, dataQuality, explain, goalAt, indexGoalsByName, journey, optimizationResults, ResultsError, type Outcome } from '../attribution/index.js';
import { effectiveSettings } from '../config/index.js';
import { ServiceError, type Clock, type StoredEvent } from '../core/index.js';
import { pseudonymiseId, redactText } from '../ingest/index.js';
import { checker } from '../dialects/index.js';
import { finiteNumbers } from './admin-routes.js';
import type { OutcomeChange, Store, StoredOutcome } from '../store/index.js';

const security = [{ adminToken: [] }];
const tags = ['admin: attribution'];
const WsParams = Type.Object({ ws: WorkspaceIdSchema });
const Instant = Type.Union([Type.Integer({ minimum: 0 }), Type.String({ format: 'date-time' })], { description: 'epoch milliseconds or an ISO 8601 time' });

const checkRunBody = checker(Type.Object({ until: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.String({ maxLength: 64 })], { description: 'epoch milliseconds or an ISO 8601 time' })) }, { additionalProperties: false }));

const instant = (v: number | string | undefined): number | undefined => (v === undefined ? undefined : typeof v === 'number' ? v : Date.parse(v));

/** Per-variation deltas of a run: what its changes added to and took from each variation, tallied a chunk of changes at a time. */
class VariationDeltas {
  readonly #deltas = new Map<string, number>();

  add(changes: readonly OutcomeChange[]): void {
    const bump = (o: string, v: string, n: number) => this.#deltas.set(`${o}\u0000${v}`, (this.#deltas.get(`${o}\u0000${v}`) ?? 0) + n);
    for (const c of changes) {
      for (const a of c.before?.attributions ?? []) bump(a.optimization, a.variation, -1);
      for (const a of c.after?.attributions ?? []) bump(a.optimization, a.variation, 1);
    }
  }

  list(): { optimization: string; variation: string; conversions: number }[] {
    return [...this.#deltas].filter(([, n]) => n !== 0).map(([k, n]) => {
      const [optimization, variation] = k.split('\u0000') as [string, string];
      return { optimization, variation, conversions: n };
    }).sort((a, b) => a.optimization.localeCompare(b.optimization) || a.variation.localeCompare(b.variation));
  }
}

/** Whether a change concerns an optimization: it was or became attributed to it. */
const mentions = (c: OutcomeChange, optimization: string) =>
  [c.before, c.after].some((o) => o?.attributions.some((a) => a.optimization === optimization) === true);

/**
 * A page of a run's changes: those after event id `after` (and concerning `optimization`, when
 * given), the first `limit` in event id order, how many there are in all, and where the next page
 * starts. Kept to a few pages' worth while the chunks stream by: a first run changes a million.
 */
class ChangePage {
  #kept: OutcomeChange[] = [];
  total = 0;

  constructor(private readonly q: { optimization?: string; after: number; limit: number }) {}

  add(changes: readonly OutcomeChange[]): void {
    for (const c of changes) {
      if (this.q.optimization !== undefined && !mentions(c, this.q.optimization)) continue;
      this.total++;
      if (c.eventId <= this.q.after) continue;
      this.#kept.push(c);
      if (this.#kept.length >= 4 * this.q.limit) this.#trim();
    }
  }

  #trim(): void {
    this.#kept = this.#kept.sort((a, b) => a.eventId - b.eventId).slice(0, this.q.limit + 1);
  }

  /** The page, and the cursor of the next one (null: this is the last). */
  result(): { changes: OutcomeChange[]; nextAfter: number | null } {
    this.#trim();
    const more = this.#kept.length > this.q.limit;
    const changes = this.#kept.slice(0, this.q.limit);
    return { changes, nextAfter: more ? changes.at(-1)!.eventId : null };
  }
}

/** The engine's outcome back from what a run stored, to explain it. */
function outcomeOf(s: StoredOutcome): Outcome {
  return s.outcome === 'attributed'
    ? { outcome: 'attributed', goalId: s.goalId!, attributions: s.attributions, visitors: s.detail.visitors }
    : { outcome: 'not_attributed', reason: s.reason as Extract<Outcome, { outcome: 'not_attributed' }>['reason'], goalId: s.goalId, visitors: s.detail.visitors, deciding: s.detail.deciding as never };
}

/**
 * The conversion sent with an idempotency key, looked up as the pipeline stored it (an email or
 * phone number in the key is kept as its hash: pseudonymiseId), or a 404 that does not quote one.
 */
export async function findConversion(store: Store, workspaceId: string, key: string): Promise<StoredEvent> {
  const event = await store.events.findByIdempotencyKey(workspaceId, pseudonymiseId(key));
  if (event === null) throw new ServiceError('not_found', `No conversion with idempotency key "${redactText(key)}" in workspace "${workspaceId}".`);
  return event;
}

/** GET …/conversions/{key}'s answer (spec/attribution.md "Answers"). */
export async function conversionAnswer(store: Store, workspaceId: string, event: StoredEvent) {
  const stored = await store.attribution.outcome(workspaceId, event.id);
  if (stored === null && event.type === 'custom' && event.name !== null) {
    // A browser custom event is a conversion only while its name is a goal's at its time (rule 1);
    // runs record no outcome for one that is not, so say why here, by the same rule.
    const match = goalAt(indexGoalsByName(await store.goals.list(workspaceId)), event.name, event.occurredAt);
    if ('reason' in match) {
      const input = { id: event.id, name: event.name, occurredAt: event.occurredAt, receivedAt: event.receivedAt, visitorId: event.visitorId, sessionId: event.sessionId, userDomain: event.userDomain, userId: event.userId };
      const outcome: Outcome = { outcome: 'not_attributed', reason: match.reason, goalId: null, visitors: [], deciding: null };
      return { conversion: event, outcome: 'not_attributed' as const, attributions: [], reason: match.reason, explanation: explain(input, outcome, { timeoutMs: 0, maxMs: 0 }) };
    }
  }
  if (stored === null) {
    return { conversion: event, outcome: 'pending' as const, attributions: [], reason: null, explanation: 'No attribution run has seen this conversion yet; run `closeloop attribute` or wait for the schedule.' };
  }
  const ws = await store.workspaces.get(workspaceId);
  const settings = effectiveSettings(ws?.settings ?? {});
  const rules = { timeoutMs: settings.sessionTimeoutMinutes * 60_000, maxMs: settings.sessionMaxHours * 3_600_000 };
  const input = { id: event.id, name: event.name ?? '', occurredAt: event.occurredAt, receivedAt: event.receivedAt, visitorId: event.visitorId, sessionId: event.sessionId, userDomain: event.userDomain, userId: event.userId };
  return {
    conversion: event, outcome: stored.outcome, attributions: stored.attributions, reason: stored.reason,
    explanation: explain(input, outcomeOf(stored), rules), runId: stored.runId,
  };
}

/** Attribution runs, restatements, conversion outcomes and results (spec/api.md §8). */
export function registerAttributionRoutes(app: FastifyInstance, deps: { store: Store; admin: AdminService; runner: AttributionRunner; clock: Clock; adminGuard: (scope: FastifyInstance) => void }): void {
  const { store, admin, runner, clock } = deps;
  void app.register(async (scope) => {
    deps.adminGuard(scope);
    finiteNumbers(scope);
    const ws = (req: FastifyRequest) => (req.params as { ws: string }).ws;

    scope.post('/workspaces/:ws/attribution/run', {
      // No body schema: the body is optional, and Fastify would refuse a POST without one.
      schema: { tags, security, summary: 'Run attribution now over the events received up to `until` (default: now). Body (optional): {"until": epoch ms or ISO 8601}.', params: WsParams },
    }, async (req) => {
      await admin.workspace(ws(req));
      const checked = checkRunBody(req.body ?? {}, 'body.');
      if (!checked.ok) throw Object.assign(new Error(checked.error.message), { statusCode: 400, cl: { ...checked.error, message: `${checked.error.message.replace(/\.$/, '')}: the body must be empty or {"until": <epoch ms or ISO 8601 time>}.` } });
      const body = checked.value;
      const until = instant(body.until);
      if (until !== undefined && !Number.isFinite(until)) throw new ServiceError('field_invalid', `until must be epoch milliseconds or an ISO 8601 time, got "${String(body.until)}".`);
      return runner.run(ws(req), until === undefined ? {} : { until });
    });
    scope.get('/workspaces/:ws/attribution/runs', {
      schema: { tags, security, summary: 'Past attribution runs, newest first.', params: WsParams, querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })) }) },
    }, async (req) => {
      await admin.workspace(ws(req));
      return { runs: await store.attribution.runs(ws(req), (req.query as { limit: number }).limit) };
    });
    scope.get('/workspaces/:ws/attribution/runs/:runId', {
      schema: {
        tags, security,
        summary: 'One run with what it changed: per-variation deltas of the whole run, and its restated conversions a page at a time (in event id order; changesTotal counts them all, nextAfter continues).',
        params: Type.Object({ ws: WorkspaceIdSchema, runId: Type.Integer({ minimum: 1 }) }),
        querystring: Type.Object({
          optimization: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'only changes that were or became attributed to this optimization' })),
          after: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'only changes of conversions with a greater event id (the previous page\'s nextAfter)' })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1000 })),
        }),
      },
    }, async (req) => {
      const q = req.query as { optimization?: string; after: number; limit: number };
      const deltas = new VariationDeltas();
      const page = new ChangePage(q);
      const run = await store.attribution.run(ws(req), (req.params as { runId: number }).runId, (changes) => {
        deltas.add(changes);
        page.add(changes);
      });
      if (run === null) throw new ServiceError('not_found', `Attribution run ${(req.params as { runId: number }).runId} does not exist in workspace "${ws(req)}".`);
      const { changes, nextAfter } = page.result();
      return { ...run, deltas: deltas.list(), changes, changesTotal: page.total, nextAfter };
    });
    scope.get('/workspaces/:ws/conversions/:idempotencyKey', {
      schema: { tags, security, summary: 'A conversion by its idempotency key (actionId, order_id, …), its attribution outcome, reason code and explanation.', params: Type.Object({ ws: WorkspaceIdSchema, idempotencyKey: Type.String({ minLength: 1, maxLength: 255 }) }) },
    }, async (req) => {
      await admin.workspace(ws(req));
      return conversionAnswer(store, ws(req), await findConversion(store, ws(req), (req.params as { idempotencyKey: string }).idempotencyKey));
    });
    scope.get('/workspaces/:ws/optimizations/:key/results', {
      schema: {
        tags, security, summary: 'Per-variation results for a goal (default: the primary goal) over a time range.',
        params: Type.Object({ ws: WorkspaceIdSchema, key: Type.String({ maxLength: 128 }) }),
        querystring: Type.Object({ goal: Type.Optional(Type.String({ maxLength: 255 })), from: Type.Optional(Instant), to: Type.Optional(Instant) }),
      },
    }, async (req) => {
      const q = req.query as { goal?: string; from?: number | string; to?: number | string };
      const o = await admin.optimization(ws(req), (req.params as { key: string }).key);
      try {
        const from = instant(q.from);
        const to = instant(q.to);
        return await optimizationResults(store, o, { ...(q.goal !== undefined ? { goal: q.goal } : {}), ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
      } catch (err) {
        if (err instanceof ResultsError) throw new ServiceError('field_invalid', err.message);
        throw err;
      }
    });
    scope.get('/workspaces/:ws/data-quality', {
      schema: { tags, security, summary: 'Match rate of conversions to visitors per userDomain and dialect and ingestion lag, as of the latest attribution run (asOf); rejections by reason.', params: WsParams },
    }, async (req) => {
      await admin.workspace(ws(req));
      return dataQuality(store, clock, ws(req));
    });
    scope.get('/workspaces/:ws/visitors/:visitorId', {
      schema: { tags, security, summary: 'A visitor\'s journey: sessions, views, identities and conversions in time order.', params: Type.Object({ ws: WorkspaceIdSchema, visitorId: Type.String({ minLength: 1, maxLength: 128 }) }) },
    }, async (req) => {
      await admin.workspace(ws(req));
      return journey(store, clock, ws(req), { visitorId: pseudonymiseId((req.params as { visitorId: string }).visitorId) });
    });
    scope.get('/workspaces/:ws/users/:userDomain/:userId', {
      schema: { tags, security, summary: 'A user\'s journey across every visitor (device) that called setUserId(userDomain, userId).', params: Type.Object({ ws: WorkspaceIdSchema, userDomain: Type.String({ minLength: 1, maxLength: 255 }), userId: Type.String({ minLength: 1, maxLength: 255 }) }) },
    }, async (req) => {
      await admin.workspace(ws(req));
      const p = req.params as { userDomain: string; userId: string };
      return journey(store, clock, ws(req), { userDomain: p.userDomain, userId: pseudonymiseId(p.userId) });
    });
  }, { prefix: '/admin/v1' });
}
