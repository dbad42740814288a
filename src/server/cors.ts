import type { FastifyReply } from 'fastify';
import { originAllowed } from '../ingest/index.js';

/**
 * CORS for the browser endpoints: a page may read an answer only when its origin is one the
 * workspace admits (allowedOrigins; any when none are set). `allowed` null: the workspace is not
 * known (the key was refused), and the answer holds nothing of it, so the page may read why.
 */
export function allowOrigin(reply: FastifyReply, origin: string | null, allowed: readonly string[] | null): void {
  void reply.header('Vary', 'Origin');
  if (origin !== null && (allowed === null || originAllowed(origin, allowed))) void reply.header('Access-Control-Allow-Origin', origin);
}

/**
 * A CORS preflight. The key travels in the body, so a preflight cannot tell the workspace: it
 * admits any origin, and the request that follows is judged on its own (refused, with no
 * Access-Control-Allow-Origin, from an origin its workspace does not admit). The snippet itself
 * sends text/plain bodies, which need no preflight.
 */
export function preflight(reply: FastifyReply, origin: string | null, requestedHeaders: string | null): FastifyReply {
  return reply.code(204).headers({
    ...(origin !== null ? { 'Access-Control-Allow-Origin': origin } : {}),
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers': requestedHeaders ?? 'Content-Type',
    'Access-Control-Max-Age': '86400',
    Vary: 'Origin, Access-Control-Request-Headers',
  }).send();
}
