import { ingestError, type ErrorCode, type IngestError } from '../core/index.js';
import type { DialectRoute } from '../dialects/index.js';
import { dialectByName } from '../dialects/index.js';
import type { IngestPipeline, ResolvedWorkspace } from '../ingest/index.js';
import type { Store } from '../store/index.js';

/**
 * Refusals of a body that could not be read. Its kept text is what was refused (or, for bytes
 * that were not UTF-8, their Latin-1 reading), so parsing it again would store what ingestion
 * refused — a "__proto__" key, or mojibake.
 */
const UNREADABLE: ReadonlySet<string> = new Set<ErrorCode>(['invalid_json', 'invalid_utf8', 'nesting_too_deep', 'forbidden_key']);

export type ReplayResult =
  | { id: number; status: 'stored' | 'duplicate'; eventIds: number[] }
  | { id: number; status: 'rejected'; error: IngestError }
  | { id: number; status: 'skipped'; reason: string };

/**
 * Runs quarantined events through the pipeline again, as their dialect received them, with the
 * workspace's settings, goals and clock of now. Authentication and rate limits are not applied:
 * an admin asked for this. One that passes is marked replayed with the id it was stored as; one
 * that fails again keeps its entry, and the answer says why.
 */
export async function replayRejections(store: Store, pipeline: IngestPipeline, ws: ResolvedWorkspace, ids: number[] | null, now: number): Promise<ReplayResult[]> {
  const wsId = ws.workspace.id;
  const rejections = ids === null
    ? (await store.rejections.list(wsId, { limit: 1000, pending: true })).reverse()
    : await store.rejections.get(wsId, ids);
  const results: ReplayResult[] = [];
  for (const r of rejections) {
    if (r.replayedAt !== null) { results.push({ id: r.id, status: 'skipped', reason: `already replayed as event ${r.replayedEventId ?? '?'}` }); continue; }
    if (UNREADABLE.has(r.code)) {
      results.push({ id: r.id, status: 'rejected', error: ingestError(r.code as ErrorCode, `The body still cannot be read: ${r.message}`) });
      continue;
    }
    const route: DialectRoute | undefined = dialectByName(r.dialect)?.routes.find((x) => x.url === r.route.url);
    if (route === undefined) { results.push({ id: r.id, status: 'skipped', reason: `no endpoint ${r.route.url} in dialect ${r.dialect}` }); continue; }
    let body: unknown;
    let bodyError = null;
    try {
      body = JSON.parse(r.raw);
    } catch {
      bodyError = { error: { code: 'invalid_json' as const, message: 'The body is still not valid JSON.' }, raw: r.raw };
    }
    // A refused event of a batch was kept on its own; /collect only takes batches.
    if (r.index !== null && (route.url.endsWith('/batch') || r.dialect === 'collect')) body = { events: [body] };
    const input = { params: r.route.params, query: {}, headers: {}, body, bodyError, ip: '' };
    const outcome = await pipeline.accept(ws, { ...route.read(input), dryRun: false, quarantine: false, clientIp: null, userAgent: null });
    if (outcome.error !== null) { results.push({ id: r.id, status: 'rejected', error: outcome.error }); continue; }
    const failed = outcome.results.find((x) => x.status === 'rejected');
    if (failed !== undefined && failed.status === 'rejected') { results.push({ id: r.id, status: 'rejected', error: failed.error }); continue; }
    const eventIds = outcome.results.flatMap((x) => (x.status === 'rejected' ? [] : [x.event.id]));
    await store.rejections.markReplayed(wsId, r.id, now, eventIds[0] ?? null);
    results.push({ id: r.id, status: outcome.results.every((x) => x.status === 'duplicate') ? 'duplicate' : 'stored', eventIds });
  }
  return results;
}
