import type { FastifyInstance } from 'fastify';
import { ingestError } from '../core/index.js';
import { trackerBundle } from '../tracker/index.js';
import { adminError } from './errors.js';

/**
 * GET /t.js: the browser snippet. Cached by browsers and CDNs for five minutes, then
 * revalidated by ETag (the URL carries no version, so a new release must reach pages soon);
 * gzipped for clients that accept it; loadable from any site.
 */
export async function registerTrackerRoutes(app: FastifyInstance): Promise<void> {
  const bundle = await trackerBundle();
  app.get('/t.js', { schema: { tags: ['browser'], summary: 'The browser snippet: <script async src="…/t.js" data-key="cl_pk_…"></script>.' } }, async (req, reply) => {
    if (bundle === null) {
      const answer = adminError(ingestError('internal_error', 'The browser snippet was not built (dist/tracker/t.js is missing); run `npm run build`.'));
      return reply.code(answer.status).send(answer.body);
    }
    void reply.headers({
      'Cache-Control': 'public, max-age=300',
      ETag: bundle.etag,
      Vary: 'Accept-Encoding',
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'Access-Control-Allow-Origin': '*',
    });
    const tags = String(req.headers['if-none-match'] ?? '').split(',').map((t) => t.trim().replace(/^W\//, ''));
    if (tags.includes(bundle.etag) || tags.includes('*')) return reply.code(304).send();
    void reply.header('Content-Type', 'text/javascript; charset=utf-8');
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('Content-Encoding', 'gzip').send(bundle.gzip);
    return reply.send(bundle.code);
  });
}
