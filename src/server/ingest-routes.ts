import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ingestError } from '../core/index.js';
import { DIALECTS, type Dialect, type DialectRoute, type HttpInput } from '../dialects/index.js';
import type { IngestOutcome, IngestPipeline } from '../ingest/index.js';
import { UnreadableBody } from './body-parser.js';

/** Lets Fastify document a body without validating it: the dialect validates each event itself. */
const documentOnly = () => (data: unknown) => ({ value: data });

/** What a dialect is handed of a request: nothing framework-specific. */
export function httpInput(req: FastifyRequest): HttpInput {
  const raw = req.body;
  const unreadable = raw instanceof UnreadableBody ? raw : null;
  return {
    params: req.params as Record<string, string>,
    query: req.query as Record<string, string | undefined>,
    headers: req.headers,
    body: unreadable === null ? raw : undefined,
    bodyError: unreadable === null ? null : { error: unreadable.error, raw: unreadable.raw },
    ip: req.ip,
  };
}

/** RateLimit-* on every answer, Retry-After on a refusal (spec/api.md §6). */
export function rateLimitHeaders(reply: FastifyReply, outcome: IngestOutcome): void {
  const rl = outcome.rateLimit;
  if (rl === null) return;
  void reply.header('RateLimit-Limit', String(rl.limit));
  void reply.header('RateLimit-Remaining', String(rl.remaining));
  void reply.header('RateLimit-Reset', String(rl.resetSeconds));
  if (rl.retryAfterSeconds !== null) void reply.header('Retry-After', String(rl.retryAfterSeconds));
}

function register(app: FastifyInstance, pipeline: IngestPipeline, dialect: Dialect, route: DialectRoute): void {
  app.post(route.url, {
    config: { ingest: true, relaxedJson: route.relaxedJson === true, dialect: dialect.name },
    validatorCompiler: documentOnly,
    schema: {
      tags: [dialect.name],
      summary: route.summary,
      description: dialect.description,
      body: route.body,
      querystring: { type: 'object', properties: { dryRun: { type: 'string', enum: ['true', 'false'], description: 'Validate and answer without storing anything.' } } },
      response: { 200: route.response },
    },
  }, async (req, reply) => {
    const input = httpInput(req);
    // Checked here, not by the schema (documentation only): anything but one "true" or "false"
    // (1, TRUE, a repeated parameter) is refused, and nothing is stored, dry or not.
    const dryRun: unknown = (req.query as Record<string, unknown>).dryRun;
    const badDryRun = dryRun !== undefined && dryRun !== 'true' && dryRun !== 'false';
    const request = {
      ...route.read(input),
      ...(badDryRun ? { unreadable: { error: ingestError('field_invalid', 'dryRun must be "true" or "false" (given once); nothing was stored.', { field: 'dryRun' }), raw: '' } } : {}),
      dryRun: badDryRun || dryRun === 'true', quarantine: true, clientIp: null, userAgent: null,
    };
    const outcome = await pipeline.ingest(request);
    const answer = route.respond(outcome, input);
    rateLimitHeaders(reply, outcome);
    return reply.code(answer.status as 200).headers(answer.headers ?? {}).send(answer.body);
  });
}

/** Mounts every dialect's endpoints. */
export function registerIngestRoutes(app: FastifyInstance, pipeline: IngestPipeline): void {
  for (const dialect of DIALECTS) for (const route of dialect.routes) register(app, pipeline, dialect, route);
}

export function dialectOfRequest(req: FastifyRequest): Dialect | undefined {
  const name = (req.routeOptions.config as { dialect?: string } | undefined)?.dialect;
  return name === undefined ? undefined : DIALECTS.find((d) => d.name === name);
}
