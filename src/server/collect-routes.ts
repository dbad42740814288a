import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authenticator } from '../auth/index.js';
import { effectiveSettings } from '../config/index.js';
import { ingestError, type Clock, type IngestError } from '../core/index.js';
import { collect } from '../dialects/collect/index.js';
import { originAllowed, type IngestPipeline, type WorkspaceDirectory } from '../ingest/index.js';
import type { Store } from '../store/index.js';
import { allowOrigin, preflight } from './cors.js';
import { toIngestError } from './errors.js';
import { httpInput, rateLimitHeaders } from './ingest-routes.js';

export interface CollectDeps {
  pipeline: IngestPipeline;
  auth: Authenticator;
  workspaces: WorkspaceDirectory;
  store: Store;
  clock: Clock;
  maxBodyBytes: number;
}

const tags = ['browser'];
const origin = (req: FastifyRequest): string | null => (typeof req.headers.origin === 'string' ? req.headers.origin : null);

/** A refusal in /collect's shape, readable by any page (it says nothing about a workspace). */
function refuse(reply: FastifyReply, req: FastifyRequest, e: IngestError): FastifyReply {
  const answer = collect.error(e);
  allowOrigin(reply, origin(req), null);
  return reply.code(answer.status).send(answer.body);
}

/** Running optimizations per workspace, kept a few seconds: every page of every visitor may ask. */
function optimizationCache(store: Store, clock: Clock, ttlMs = 5000) {
  const cache = new Map<string, { until: number; value: { key: string; variations: { key: string; weight: number }[] }[] }>();
  return async (workspaceId: string) => {
    const hit = cache.get(workspaceId);
    if (hit !== undefined && hit.until > clock.now()) return hit.value;
    const value = (await store.optimizations.list(workspaceId))
      .filter((o) => o.status === 'running')
      .map((o) => ({ key: o.key, variations: o.variations.map((v) => ({ key: v.key, weight: v.weight })) }));
    if (cache.size > 10_000) cache.clear();
    cache.set(workspaceId, { until: clock.now() + ttlMs, value });
    return value;
  };
}

/**
 * The browser snippet's endpoints (spec/api.md §7): POST /collect through the ingest pipeline
 * with the collect dialect, GET /collect/config for the snippet, and their CORS preflights.
 */
export function registerCollectRoutes(app: FastifyInstance, deps: CollectDeps): void {
  const route = collect.routes[0]!;
  const running = optimizationCache(deps.store, deps.clock);

  app.options('/collect', { schema: { tags, summary: 'CORS preflight for POST /collect.' } }, async (req, reply) =>
    preflight(reply, origin(req), typeof req.headers['access-control-request-headers'] === 'string' ? req.headers['access-control-request-headers'] : null));
  app.options('/collect/config', { schema: { tags, summary: 'CORS preflight for GET /collect/config.' } }, async (req, reply) =>
    preflight(reply, origin(req), null));

  app.post(route.url, {
    config: { ingest: true, dialect: collect.name },
    // The collect dialect checks each event itself (per-event results, quarantine); the schema documents.
    validatorCompiler: () => (data: unknown) => ({ value: data }),
    // 413 and 415 arise before the handler: answered in /collect's shape, readable by the page.
    errorHandler: (err: FastifyError, req, reply) => refuse(reply, req, toIngestError(err, deps.maxBodyBytes)),
    schema: {
      tags,
      summary: route.summary,
      description: collect.description,
      body: route.body,
      querystring: Type.Object({
        key: Type.Optional(Type.String({ description: 'The browser key, when the body does not carry it.' })),
        dryRun: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'Validate and answer without storing anything.' })),
      }),
      response: { 200: route.response },
    },
  }, async (req, reply) => {
    const input = httpInput(req);
    // The key travels in the body (sendBeacon cannot set headers): a body that cannot be read has
    // no key, and "no key was sent" would blame the wrong thing.
    if (input.bodyError !== null && input.query.key === undefined) return refuse(reply, req, input.bodyError.error);
    const dryRun = input.query.dryRun;
    if (dryRun !== undefined && dryRun !== 'true' && dryRun !== 'false') {
      return refuse(reply, req, ingestError('field_invalid', 'dryRun must be "true" or "false" (given once); nothing was stored.', { field: 'dryRun' }));
    }
    const request = {
      ...route.read(input),
      dryRun: dryRun === 'true',
      quarantine: true,
      // A page's own address and browser, unlike a backend's, describe the visitor (the address is truncated).
      clientIp: req.ip,
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
    };
    const outcome = await deps.pipeline.ingest(request);
    const answer = route.respond(outcome, input);
    rateLimitHeaders(reply, outcome);
    allowOrigin(reply, origin(req), outcome.workspace === null ? null : effectiveSettings(outcome.workspace.settings).allowedOrigins);
    return reply.code(answer.status as 200).headers(answer.headers ?? {}).send(answer.body);
  });

  app.get('/collect/config', {
    schema: {
      tags,
      summary: 'What the snippet needs: session rules, the privacy setting, and running optimizations with their variations and weights.',
      querystring: Type.Object({ key: Type.Optional(Type.String({ maxLength: 200, description: 'The browser key, cl_pk_….' })) }),
    },
    errorHandler: (err: FastifyError, req, reply) => refuse(reply, req, toIngestError(err, deps.maxBodyBytes)),
  }, async (req, reply) => {
    const secret = (req.query as { key?: string }).key ?? null;
    const key = await deps.auth.authenticate(secret, 'browser');
    if (key === null) return refuse(reply, req, ingestError('unauthorized', 'The key is missing, unknown, revoked, or not a browser key (cl_pk_…); pass the workspace\'s browser key as ?key=.'));
    const ws = await deps.workspaces.get(key.workspaceId);
    if (ws === null) return refuse(reply, req, ingestError('workspace_mismatch', `Workspace "${key.workspaceId}" was not found for this key.`));
    const s = ws.settings;
    const from = origin(req);
    if (!originAllowed(from, s.allowedOrigins)) {
      const answer = collect.error(ingestError('origin_not_allowed', `Workspace "${ws.workspace.id}" admits browser requests only from its allowedOrigins (${s.allowedOrigins.join(', ')}), not from ${from ?? 'a request without an Origin header'}.`));
      return reply.code(answer.status).header('Vary', 'Origin').send(answer.body);
    }
    allowOrigin(reply, from, s.allowedOrigins);
    // Short: a paused optimization stops being assigned within a minute (the snippet also keeps it five).
    void reply.header('Cache-Control', 'private, max-age=60');
    return {
      sessionTimeoutMinutes: s.sessionTimeoutMinutes,
      sessionMaxHours: s.sessionMaxHours,
      honorGlobalPrivacyControl: s.honorGlobalPrivacyControl,
      optimizations: await running(ws.workspace.id),
    };
  });
}
