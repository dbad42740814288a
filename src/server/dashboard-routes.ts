import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError, ingestError } from '../core/index.js';
import { dashboardBundle, type DashboardAsset } from '../dashboard/index.js';
import { adminError } from './errors.js';

/**
 * The page may load only its own script and stylesheet and talk only to this origin (the admin
 * API); nothing inline runs, and no other site may frame it (the admin token is typed into it).
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Answers an asset: 304 to a matching revalidation, gzip to a client that accepts it. */
function send(req: FastifyRequest, reply: FastifyReply, asset: DashboardAsset, cacheControl: string) {
  void reply.headers({ 'Cache-Control': cacheControl, ETag: asset.etag, Vary: 'Accept-Encoding', 'X-Content-Type-Options': 'nosniff' });
  const tags = String(req.headers['if-none-match'] ?? '').split(',').map((t) => t.trim().replace(/^W\//, ''));
  if (tags.includes(asset.etag) || tags.includes('*')) return reply.code(304).send();
  void reply.header('Content-Type', asset.contentType);
  if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) return reply.header('Content-Encoding', 'gzip').send(asset.gzip);
  return reply.send(asset.body);
}

/**
 * GET / (the dashboard's page) and GET /dashboard/{file} (its script and stylesheet). The page
 * is revalidated on every load, so a new release shows at once; the script and stylesheet are
 * named by their content and cached for a year.
 */
export async function registerDashboardRoutes(app: FastifyInstance): Promise<void> {
  const bundle = await dashboardBundle();
  const missing = (reply: FastifyReply) => {
    const answer = adminError(ingestError('internal_error', 'The dashboard was not built (dist/dashboard/app.js is missing); run `npm run build`.'));
    return reply.code(answer.status).send(answer.body);
  };

  app.get('/', { schema: { hide: true } }, async (req, reply) => {
    if (bundle === null) return missing(reply);
    void reply.headers({ 'Content-Security-Policy': CSP, 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' });
    return send(req, reply, bundle.html, 'no-cache');
  });

  app.get('/dashboard/:file', { schema: { hide: true } }, async (req, reply) => {
    if (bundle === null) return missing(reply);
    const file = (req.params as { file: string }).file;
    const asset = bundle.assets.get(file);
    if (asset === undefined) throw new ServiceError('not_found', `No dashboard file "${file}"; reload the page (/) to get the current ones.`);
    return send(req, reply, asset, 'public, max-age=31536000, immutable');
  });
}
