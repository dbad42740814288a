import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  AdminService, CreateGoalSchema, CreateKeySchema, CreateOptimizationSchema, CreateWorkspaceSchema, EventFiltersSchema, PatchOptimizationSchema,
  PatchWorkspaceSchema, RenameGoalSchema, WorkspaceIdSchema, goalView, keyView, optimizationView, rejectionView, replayRejections, workspaceView,
  InstallQuerySchema, ResultsSeriesQuerySchema, installGuide, resultsSeries, type ResultsSeriesQuery,
  type CreateGoal, type CreateKey, type CreateOptimization, type CreateWorkspace, type EventFilters, type PatchWorkspace,
} from '../admin/index.js';
import { sameDigest, hashSecret } from '../auth/index.js';
import { ServiceError, ingestError, type Clock } from '../core/index.js';
import { checker } from '../dialects/index.js';
import type { IngestPipeline, WorkspaceDirectory } from '../ingest/index.js';
import type { Store } from '../store/index.js';
import { adminError } from './errors.js';

export interface AdminDeps {
  store: Store;
  admin: AdminService;
  pipeline: IngestPipeline;
  workspaces: WorkspaceDirectory;
  clock: Clock;
  adminTokenHash: string;
}

const WsParams = Type.Object({ ws: WorkspaceIdSchema });
const security = [{ adminToken: [] }];
const page = (max: number) => Type.Integer({ minimum: 1, maximum: max, default: 50 });

/** Every route in `scope` answers 401 unless it carries the admin token (compared as hashes, in constant time). */
export function guardAdmin(scope: FastifyInstance, adminTokenHash: string): void {
  scope.addHook('onRequest', async (req, reply) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (m === null || !sameDigest(hashSecret(m[1]!), adminTokenHash)) {
      const answer = adminError(ingestError('unauthorized', 'This endpoint needs the admin token: Authorization: Bearer <CLOSELOOP_ADMIN_TOKEN>.'));
      return reply.code(401).send(answer.body);
    }
    return undefined;
  });
}

/**
 * Admin bodies are checked against their schema as sent, before Fastify's validator (which
 * coerces types: `{"rateLimitPerMinute": true}` would become 1, `{"name": 5}` "5"): a value of
 * the wrong type is refused naming its field, like every dialect does.
 */
function strictBodies(scope: FastifyInstance): void {
  const checks = new WeakMap<object, ReturnType<typeof checker>>();
  scope.addHook('preValidation', async (req) => {
    const schema = req.routeOptions.schema?.body as TSchema | undefined;
    if (schema === undefined || req.body === undefined) return;
    let check = checks.get(schema);
    if (check === undefined) {
      check = checker(schema);
      checks.set(schema, check);
    }
    const result = check(req.body, 'body.');
    if (!result.ok) throw Object.assign(new Error(result.error.message), { statusCode: 400, cl: result.error });
  });
}

/**
 * Fastify's validator lets "1e400" through as an integer (Infinity): a path or query number that
 * is not finite is refused here, after validation, naming its parameter.
 */
export function finiteNumbers(scope: FastifyInstance): void {
  scope.addHook('preHandler', async (req) => {
    for (const [part, values] of [['params', req.params], ['querystring', req.query]] as const) {
      for (const [name, v] of Object.entries((values ?? {}) as Record<string, unknown>)) {
        if (typeof v === 'number' && !Number.isFinite(v)) {
          const e = ingestError('field_invalid', `${part}.${name} must be a finite number.`, { field: `${part}.${name}` });
          throw Object.assign(new Error(e.message), { statusCode: 400, cl: e });
        }
      }
    }
  });
}

/** The admin API, spec/api.md §8. Every route needs the admin token; every path is scoped by workspace. */
export function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): void {
  const { admin, store, pipeline, workspaces, clock } = deps;

  void app.register(async (scope) => {
    guardAdmin(scope, deps.adminTokenHash);
    strictBodies(scope);
    finiteNumbers(scope);

    const ws = (req: FastifyRequest) => (req.params as { ws: string }).ws;
    const tags = (t: string) => ({ tags: [`admin: ${t}`], security });

    scope.post('/workspaces', { schema: { ...tags('workspaces'), summary: 'Create a workspace.', body: CreateWorkspaceSchema } }, async (req, reply) =>
      reply.code(201).send(workspaceView(await admin.createWorkspace(req.body as CreateWorkspace))));
    scope.get('/workspaces', { schema: { ...tags('workspaces'), summary: 'List workspaces.' } }, async () =>
      ({ workspaces: (await admin.listWorkspaces()).map(workspaceView) }));
    scope.get('/workspaces/:ws', { schema: { ...tags('workspaces'), summary: 'A workspace and its settings in force.', params: WsParams } }, async (req) =>
      workspaceView(await admin.workspace(ws(req))));
    scope.patch('/workspaces/:ws', { schema: { ...tags('workspaces'), summary: 'Rename a workspace or change its settings (merged into the current ones).', params: WsParams, body: PatchWorkspaceSchema } }, async (req) =>
      workspaceView(await admin.patchWorkspace(ws(req), req.body as PatchWorkspace)));

    scope.post('/workspaces/:ws/keys', { schema: { ...tags('keys'), summary: 'Create a key. The secret is in this answer only.', params: WsParams, body: CreateKeySchema } }, async (req, reply) => {
      const { record, key } = await admin.createKey(ws(req), req.body as CreateKey);
      return reply.code(201).send({ ...keyView(record), key });
    });
    scope.get('/workspaces/:ws/keys', { schema: { ...tags('keys'), summary: 'List keys (never their secrets).', params: WsParams } }, async (req) =>
      ({ keys: (await admin.listKeys(ws(req))).map(keyView) }));
    scope.delete('/workspaces/:ws/keys/:id', { schema: { ...tags('keys'), summary: 'Revoke a key; it is refused at once.', params: Type.Object({ ws: WorkspaceIdSchema, id: Type.String({ maxLength: 64 }) }) } }, async (req) =>
      keyView(await admin.revokeKey(ws(req), (req.params as { id: string }).id)));

    scope.post('/workspaces/:ws/goals', { schema: { ...tags('goals'), summary: 'Create a goal; its API name is valid from now.', params: WsParams, body: CreateGoalSchema } }, async (req, reply) =>
      reply.code(201).send(goalView(await admin.createGoal(ws(req), req.body as CreateGoal))));
    scope.patch('/workspaces/:ws/goals/:id', { schema: { ...tags('goals'), summary: 'Rename a goal; the old API name stays in its history with its validity interval.', params: Type.Object({ ws: WorkspaceIdSchema, id: Type.Integer({ minimum: 1 }) }), body: RenameGoalSchema } }, async (req) =>
      goalView(await admin.renameGoal(ws(req), (req.params as { id: number }).id, (req.body as { apiName: string }).apiName)));
    scope.get('/workspaces/:ws/goals', { schema: { ...tags('goals'), summary: 'Goals with their name history.', params: WsParams } }, async (req) =>
      ({ goals: (await admin.listGoals(ws(req))).map(goalView) }));

    scope.post('/workspaces/:ws/optimizations', { schema: { ...tags('optimizations'), summary: 'Create an optimization (an A/B test).', params: WsParams, body: CreateOptimizationSchema } }, async (req, reply) => {
      const o = await admin.createOptimization(ws(req), req.body as CreateOptimization);
      return reply.code(201).send(optimizationView(o, await admin.goalsById(ws(req))));
    });
    scope.get('/workspaces/:ws/optimizations', { schema: { ...tags('optimizations'), summary: 'List optimizations.', params: WsParams } }, async (req) => {
      const goals = await admin.goalsById(ws(req));
      return { optimizations: (await admin.listOptimizations(ws(req))).map((o) => optimizationView(o, goals)) };
    });
    const OptParams = Type.Object({ ws: WorkspaceIdSchema, key: Type.String({ maxLength: 128 }) });
    scope.get('/workspaces/:ws/optimizations/:key', { schema: { ...tags('optimizations'), summary: 'One optimization.', params: OptParams } }, async (req) =>
      optimizationView(await admin.optimization(ws(req), (req.params as { key: string }).key), await admin.goalsById(ws(req))));
    scope.patch('/workspaces/:ws/optimizations/:key', { schema: { ...tags('optimizations'), summary: 'Set status: running, paused or ended.', params: OptParams, body: PatchOptimizationSchema } }, async (req) => {
      const o = await admin.setOptimizationStatus(ws(req), (req.params as { key: string }).key, (req.body as { status: 'running' | 'paused' | 'ended' }).status);
      return optimizationView(o, await admin.goalsById(ws(req)));
    });

    scope.get('/workspaces/:ws/optimizations/:key/results/series', {
      schema: { ...tags('optimizations'), summary: 'Conversion rate per variation over time: the results from `from` (default: the beginning) to the end of each day (or hour) since `from` or the optimization\'s creation, up to `to` (default: now).', params: OptParams, querystring: ResultsSeriesQuerySchema },
    }, async (req) => resultsSeries(store, await admin.optimization(ws(req), (req.params as { key: string }).key), req.query as ResultsSeriesQuery, clock.now()));

    scope.get('/workspaces/:ws/install', {
      schema: { ...tags('workspaces'), summary: 'How to send data to a workspace: the snippet tag, and a ready-to-run curl example per dialect, with placeholders for the keys (their secrets are never shown again).', params: WsParams, querystring: InstallQuerySchema },
    }, async (req) => {
      await admin.workspace(ws(req));
      return installGuide((req.query as { baseUrl?: string }).baseUrl ?? `${req.protocol}://${req.host}`, ws(req), clock.now());
    });

    scope.get('/workspaces/:ws/events', {
      schema: {
        ...tags('events'), summary: 'Recent events, newest first, filtered by type, name, dialect, visitorId, userDomain and userId. Pass `next` back as `after` for the next page.', params: WsParams,
        querystring: Type.Composite([EventFiltersSchema, Type.Object({ after: Type.Optional(Type.Integer({ minimum: 1 })), limit: Type.Optional(page(1000)) })]),
      },
    }, async (req) => {
      const q = req.query as EventFilters & { after?: number; limit: number };
      const events = await admin.listEvents(ws(req), q);
      return { events, next: events.length === q.limit ? events.at(-1)!.id : null };
    });

    scope.get('/workspaces/:ws/rejections', {
      schema: {
        ...tags('rejections'), summary: 'The quarantine: rejected events with reason and body (PII hashed), newest first.', params: WsParams,
        querystring: Type.Object({ after: Type.Optional(Type.Integer({ minimum: 1 })), limit: Type.Optional(page(1000)), pending: Type.Optional(Type.Boolean()) }),
      },
    }, async (req) => {
      await admin.workspace(ws(req));
      const q = req.query as { after?: number; limit: number; pending?: boolean };
      const list = await store.rejections.list(ws(req), { limit: q.limit, ...(q.after !== undefined ? { before: q.after } : {}), ...(q.pending !== undefined ? { pending: q.pending } : {}) });
      return { rejections: list.map(rejectionView), next: list.length === q.limit ? list.at(-1)!.id : null };
    });
    scope.post('/workspaces/:ws/rejections/replay', {
      schema: {
        ...tags('rejections'), summary: 'Run quarantined events through the pipeline again (all pending ones, oldest first, up to 1000, or the given ids).', params: WsParams,
        body: Type.Optional(Type.Object({ ids: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 1000 })) }, { additionalProperties: false })),
      },
    }, async (req) => {
      const resolved = await workspaces.get(ws(req));
      if (resolved === null) throw new ServiceError('not_found', `Workspace "${ws(req)}" does not exist.`);
      const ids = (req.body as { ids?: number[] } | undefined)?.ids ?? null;
      const results = await replayRejections(store, pipeline, resolved, ids, clock.now());
      const count = (s: string) => results.filter((r) => r.status === s).length;
      return { replayed: results.length, stored: count('stored'), duplicates: count('duplicate'), rejected: count('rejected'), skipped: count('skipped'), results };
    });
  }, { prefix: '/admin/v1' });
}
