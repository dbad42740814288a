import type { FastifyInstance } from 'fastify';
import type { Store } from '../store/index.js';
import type { Metrics } from './metrics.js';

/** /healthz, /readyz and /metrics (spec/api.md §9). */
export function registerOpsRoutes(app: FastifyInstance, store: Store, metrics: Metrics, isDraining: () => boolean): void {
  const hide = { schema: { tags: ['operations'] } };
  app.get('/healthz', { ...hide, schema: { ...hide.schema, summary: 'The process is up.' } }, async () => ({ ok: true }));
  app.get('/readyz', { schema: { tags: ['operations'], summary: 'The store answers and the service is not shutting down.' } }, async (_req, reply) => {
    const up = !isDraining() && (await store.ping());
    return reply.code(up ? 200 : 503).send({ ok: up, store: store.engine, ...(isDraining() ? { draining: true } : {}) });
  });
  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics.' } }, async (_req, reply) =>
    reply.header('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics()));
}
