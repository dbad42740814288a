import type { FastifyInstance } from 'fastify';
import { SqliteStore, type Store } from '../store/index.js';
import type { Metrics } from './metrics.js';

/**
 * Whether the store can write: the SQLite writer's last commit went through, or a probe commit
 * does now. A store that answers reads but cannot write (disk full, failing, locked) is not ready.
 */
const writable = (store: Store): Promise<boolean> => (store instanceof SqliteStore ? store.events.writer.writable() : Promise.resolve(true));

/** /healthz, /readyz and /metrics (spec/api.md §9). */
export function registerOpsRoutes(app: FastifyInstance, store: Store, metrics: Metrics, isDraining: () => boolean): void {
  const hide = { schema: { tags: ['operations'] } };
  app.get('/healthz', { ...hide, schema: { ...hide.schema, summary: 'The process is up.' } }, async () => ({ ok: true }));
  app.get('/readyz', { schema: { tags: ['operations'], summary: 'The store answers and can write, and the service is not shutting down.' } }, async (_req, reply) => {
    const draining = isDraining();
    const reachable = !draining && (await store.ping());
    const canWrite = reachable && (await writable(store));
    return reply.code(canWrite ? 200 : 503).send({ ok: canWrite, store: store.engine, ...(draining ? { draining: true } : {}), ...(reachable && !canWrite ? { writable: false } : {}) });
  });
  app.get('/metrics', { schema: { tags: ['operations'], summary: 'Prometheus metrics.' } }, async (_req, reply) =>
    reply.header('Content-Type', metrics.registry.contentType).send(await metrics.registry.metrics()));
}
