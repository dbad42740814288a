import { ingestError, ok, reject, type Result } from '../core/index.js';
import type { ApiKeyRecord } from '../store/index.js';
import type { Authenticator } from '../auth/index.js';
import type { RateLimiter } from './rate-limit.js';
import type { QuotaCounter } from './quota.js';
import { originAllowed } from './origins.js';
import type { IngestRequest, RateLimitState } from './types.js';
import type { ResolvedWorkspace, WorkspaceDirectory } from './workspaces.js';

/** Step 1: the presented secret must be a live server key — or, from a web page, a browser key. */
export async function authenticate(auth: Authenticator, req: Pick<IngestRequest, 'credential' | 'browser'>): Promise<Result<ApiKeyRecord>> {
  const browser = req.browser !== undefined;
  const key = await auth.authenticate(req.credential, browser ? 'browser' : 'server');
  if (key === null) {
    const message = req.credential === null
      ? (browser ? 'No browser key was sent; send the workspace\'s browser key (cl_pk_…) as "key".' : 'No API key was sent; send your server key in the Authorization header.')
      : browser
        ? 'The key is not valid here: it is unknown, revoked, or not a browser key (cl_pk_…). Never put a server key in a web page.'
        : 'The API key is not valid: it is unknown, revoked, or not a server key (cl_sk_…).';
    return reject(ingestError('unauthorized', message));
  }
  return ok(key);
}

/** Step 2: a workspace named in the path or body must be the key's own. */
export async function resolveWorkspace(dir: WorkspaceDirectory, key: ApiKeyRecord, req: Pick<IngestRequest, 'workspaceRef'>): Promise<Result<ResolvedWorkspace>> {
  if (req.workspaceRef !== null && req.workspaceRef !== key.workspaceId) {
    return reject(ingestError('workspace_mismatch', `Workspace "${req.workspaceRef.slice(0, 64)}" was not found for this API key.`));
  }
  const ws = await dir.get(key.workspaceId);
  if (ws === null) return reject(ingestError('workspace_mismatch', `Workspace "${key.workspaceId}" was not found for this API key.`));
  return ok(ws);
}

/** Step 2b, for a web page's request: its origin must be admitted, and a privacy signal the workspace honours stops it. */
export function checkBrowser(ws: ResolvedWorkspace, req: Pick<IngestRequest, 'browser'>): Result<ResolvedWorkspace> {
  const b = req.browser;
  if (b === undefined) return ok(ws);
  if (!originAllowed(b.origin, ws.settings.allowedOrigins)) {
    const from = b.origin === null ? 'a request without an Origin header' : `origin ${b.origin.slice(0, 255)}`;
    return reject(ingestError('origin_not_allowed', `Workspace "${ws.workspace.id}" accepts browser events only from its allowedOrigins (${ws.settings.allowedOrigins.join(', ')}), not from ${from}.`));
  }
  if (b.gpc && ws.settings.honorGlobalPrivacyControl) {
    return reject(ingestError('privacy_opt_out', `The browser sent Global Privacy Control and workspace "${ws.workspace.id}" honours it (honorGlobalPrivacyControl); nothing was stored.`));
  }
  return ok(ws);
}

/** Step 3: the workspace must accept server-side events (a web page's events are not server-side). */
export function checkEnabled(ws: ResolvedWorkspace, req: Pick<IngestRequest, 'browser'>): Result<ResolvedWorkspace> {
  if (req.browser === undefined && !ws.settings.serverSideEnabled) {
    return reject(ingestError('server_side_disabled', `Server-side ingestion is disabled for workspace "${ws.workspace.id}" (setting serverSideEnabled).`));
  }
  return ok(ws);
}

/**
 * Step 4: one request from the key's bucket. A browser key is shared by every visitor of a
 * site, so its limit applies per client address: one noisy client cannot silence the others.
 */
export function applyRateLimit(limiter: RateLimiter, key: ApiKeyRecord, ws: ResolvedWorkspace, req: Pick<IngestRequest, 'browser' | 'clientIp'>): Result<RateLimitState> & { state: RateLimitState } {
  const limit = key.rateLimitPerMinute ?? ws.settings.rateLimitPerMinute;
  const bucket = req.browser !== undefined ? `${key.id} ${req.clientIp ?? ''}` : key.id;
  const state = limiter.take(bucket, limit);
  if (state.retryAfterSeconds !== null) {
    const error = ingestError('rate_limited', `This key is limited to ${limit} requests per minute; retry in ${state.retryAfterSeconds} s.`, { retryAfterSeconds: state.retryAfterSeconds });
    return { ok: false, error, state };
  }
  return { ok: true, value: state, state };
}

/** Step 5: a batch holds 1..maxBatch events. */
export function checkBatchSize(req: Pick<IngestRequest, 'items' | 'maxBatch' | 'batch'>): Result<unknown[]> {
  if (req.items.length === 0) return reject(ingestError('batch_empty', 'events must hold at least one event.', { field: 'events' }));
  if (req.items.length > req.maxBatch) {
    return reject(ingestError('batch_too_large', `events holds ${req.items.length} events; at most ${req.maxBatch} are allowed per request.`, { field: 'events' }));
  }
  return ok(req.items);
}

/** Step 6: the events must fit in what is left of the monthly quota. */
export async function checkQuota(quota: QuotaCounter, ws: ResolvedWorkspace, n: number): Promise<Result<number>> {
  const limit = ws.settings.monthlyQuota;
  if (limit === null) return ok(n);
  const used = await quota.used(ws.workspace.id);
  if (used + n > limit) {
    return reject(ingestError('quota_exceeded', `Workspace "${ws.workspace.id}" has used ${used} of its ${limit} events this month (monthlyQuota); ${n} more do not fit.`));
  }
  return ok(n);
}
