import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import { AdminService } from '../admin/index.js';
import { Authenticator } from '../auth/index.js';
import type { Config } from '../config/index.js';
import type { Clock } from '../core/index.js';
import { IngestPipeline, redactText, WorkspaceDirectory } from '../ingest/index.js';
import { SqliteStore, type Store } from '../store/index.js';
import { guardAdmin, registerAdminRoutes } from './admin-routes.js';
import { registerAttributionRoutes } from './attribution-routes.js';
import { AttributionRunner, AttributionScheduler, attributionPreviewer, refreshKeptResults, workerExecutor, workerIndexer } from '../attribution/index.js';
import { installAdmission } from './admission.js';
import { installBodyParser } from './body-parser.js';
import { registerCollectRoutes } from './collect-routes.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { installErrorHandler } from './errors.js';
import { dialectOfRequest, registerIngestRoutes } from './ingest-routes.js';
import type { Metrics } from './metrics.js';
import { registerOpsRoutes } from './ops-routes.js';
import { registerTrackerRoutes } from './tracker-routes.js';

export interface AppDeps {
  config: Readonly<Config>;
  store: Store;
  clock: Clock;
  metrics: Metrics;
  adminTokenHash: string;
  /** Run attribution in worker threads (the service: a long run must not stall ingestion); tests run it in-process. */
  attributionInWorker?: boolean;
}

export interface App {
  fastify: FastifyInstance;
  admin: AdminService;
  pipeline: IngestPipeline;
  runner: AttributionRunner;
  /** Started by `serve`; in-process tests drive it with tick(). */
  scheduler: AttributionScheduler;
  /** Stop admitting new work (readyz turns 503) before close. */
  drain(): void;
}

/** Query strings and paths that must never reach a log line: keys, and emails or phones (a journey looked up by one). */
const redactUrl = (url: string): string => redactText(url.replace(/([?&]api_key=)[^&]*/gi, '$1[redacted]'));

/** Assembles the HTTP service. It does not listen: tests inject requests, `serve` listens. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const { config, store, clock, metrics } = deps;
  const fastify = Fastify({
    bodyLimit: config.maxBodyBytes,
    // One line per request would cost more than the request itself at ingest rates; errors are logged.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // Slow or silent clients are cut (408, then the connection closed) without holding up others.
    connectionTimeout: config.idleTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // Node checks the headers and request timeouts on this period (30 s by default, which
      // would let a slow client hold on that much past them).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.headersTimeoutMs / 4))),
    },
    trustProxy: false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    logger: config.logLevel === 'silent' ? false : {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: redactUrl(req.url) }),
      },
    },
  });

  const auth = new Authenticator(store.keys, clock);
  const workspaces = new WorkspaceDirectory(store.workspaces, clock);
  const pipeline = new IngestPipeline(store, auth, workspaces, clock, metrics, attributionPreviewer(store, clock));
  const admin = new AdminService(store, clock, { workspaceChanged: (id) => workspaces.invalidate(id), keyChanged: (hash) => auth.evict(hash) });
  let draining = false;

  installBodyParser(fastify);
  installAdmission(fastify, { maxInflightBytes: config.maxInflightBytes, targetLatencyMs: config.targetLatencyMs, maxBodyBytes: config.maxBodyBytes, metrics });
  installErrorHandler(fastify, dialectOfRequest, config.maxBodyBytes);
  fastify.addHook('onResponse', async (req, reply) => {
    metrics.request(req.routeOptions.url ?? 'unmatched', reply.statusCode);
  });
  // Once draining, a request still in flight closes its connection after the answer: a client's
  // kept-alive connection would otherwise hold shutdown open for keepAliveTimeout (72 s).
  fastify.addHook('onSend', (_req, reply, payload, done) => {
    if (draining) void reply.header('Connection', 'close');
    done(null, payload);
  });

  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'closeloop', version: '0.1.0', description: 'Server-side conversion tracking and attribution. Four ingestion dialects on one event model, and the admin API.' },
      components: {
        securitySchemes: {
          serverKey: { type: 'http', scheme: 'bearer', description: 'A server key, cl_sk_… (Optimize dialect: Authorization: ApiKey cl_sk_…).' },
          browserKey: { type: 'apiKey', in: 'query', name: 'key', description: 'A browser key, cl_pk_… (POST /collect also takes it as "key" in the body).' },
          adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token.' },
        },
      },
    },
  });
  await fastify.register(swaggerUi, { routePrefix: '/docs' });

  registerOpsRoutes(fastify, store, metrics, () => draining);
  registerIngestRoutes(fastify, pipeline);
  registerCollectRoutes(fastify, { pipeline, auth, workspaces, store, clock, maxBodyBytes: config.maxBodyBytes });
  await registerTrackerRoutes(fastify);
  await registerDashboardRoutes(fastify);
  registerAdminRoutes(fastify, { store, admin, pipeline, workspaces, clock, adminTokenHash: deps.adminTokenHash });
  const inWorker = deps.attributionInWorker === true && store instanceof SqliteStore;
  const executor = inWorker ? workerExecutor(store.file) : undefined;
  const runner = new AttributionRunner(store, clock, (ok, ws) => {
    metrics.attributionRuns.inc({ result: ok ? 'ok' : 'failed' });
    // The results kept for the dashboard are counted again now, not when someone next asks.
    if (ok) void refreshKeptResults(store, ws);
  }, executor, inWorker ? workerIndexer(store.file) : undefined);
  const scheduler = new AttributionScheduler(store, runner, clock, (ws, err, mode) =>
    fastify.log.error({ err, workspace: ws, mode }, mode === 'index' ? 'scheduled indexing of events for attribution failed' : 'scheduled attribution run failed'));
  registerAttributionRoutes(fastify, { store, admin, runner, clock, adminGuard: (scope) => guardAdmin(scope, deps.adminTokenHash) });
  fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger());

  return { fastify, admin, pipeline, runner, scheduler, drain: () => { draining = true; } };
}
