import { ingestError, ServiceError, type CanonicalEvent, type Clock, type IngestError, type StoredEvent } from '../core/index.js';
import type { Authenticator } from '../auth/index.js';
import type { NewRejection, Store } from '../store/index.js';
import { differingFields } from './differing-fields.js';
import { truncateIp } from './ip.js';
import type { IngestMetrics } from './metrics.js';
import { hashUserData, pseudonymiseIdOrNull, redactRaw, redactText, scrubContext, scrubProperties } from './pii.js';
import { QuotaCounter } from './quota.js';
import { RateLimiter } from './rate-limit.js';
import { applyRateLimit, authenticate, checkBatchSize, checkBrowser, checkEnabled, checkQuota, resolveWorkspace } from './steps.js';
import type { AttributionPreviewer, EventDraft, EventResult, IngestOutcome, IngestRequest, RateLimitState, RejectedResult } from './types.js';
import type { ResolvedWorkspace, WorkspaceDirectory } from './workspaces.js';

const RAW_LIMIT = 64 * 1024;

interface Prepared {
  index: number;
  event: CanonicalEvent;
  timestampGiven: boolean;
  raw: unknown;
  /** The idempotency key held an email or phone number, stored as its hash. */
  keyHashed: boolean;
}

/**
 * The dialect-blind ingest pipeline (DESIGN.md "Data flow"): authenticate, check the workspace,
 * limit, validate each event, dedupe, append — and answer only once the append is durable.
 * Every event refused after authentication is quarantined with its reason.
 */
export class IngestPipeline {
  readonly #limiter: RateLimiter;
  readonly #quota: QuotaCounter;

  constructor(
    private readonly store: Store,
    private readonly auth: Authenticator,
    private readonly workspaces: WorkspaceDirectory,
    private readonly clock: Clock,
    private readonly metrics: IngestMetrics,
    private readonly preview: AttributionPreviewer | null = null,
  ) {
    this.#limiter = new RateLimiter(clock);
    this.#quota = new QuotaCounter(store.events, clock);
  }

  async ingest(req: IngestRequest): Promise<IngestOutcome> {
    const out: IngestOutcome = { error: null, results: [], rateLimit: null, key: null, workspace: null, dryRun: null };
    const key = await authenticate(this.auth, req);
    if (!key.ok) return this.#refuse(out, req, key.error);
    out.key = key.value;
    const ws = await resolveWorkspace(this.workspaces, key.value, req);
    if (!ws.ok) return this.#refuse(out, req, ws.error);
    out.workspace = ws.value.workspace;
    // Not kept in the quarantine: a foreign page's data, or a visitor's opt-out, is not the workspace's to keep.
    const browser = checkBrowser(ws.value, req);
    if (!browser.ok) return this.#refuse(out, req, browser.error);
    const limited = applyRateLimit(this.#limiter, key.value, ws.value, req);
    out.rateLimit = limited.state;
    if (!limited.ok) return this.#refuse(out, req, limited.error);
    return this.accept(ws.value, req, out);
  }

  /** Everything after authentication and rate limiting; replay enters here with a known workspace. */
  async accept(ws: ResolvedWorkspace, req: IngestRequest, out: IngestOutcome = { error: null, results: [], rateLimit: null, key: null, workspace: ws.workspace, dryRun: null }): Promise<IngestOutcome> {
    const receivedAt = this.clock.now();
    const enabled = checkEnabled(ws, req);
    if (!enabled.ok) return this.#refuseAndKeep(out, ws, req, enabled.error, receivedAt);
    if (req.unreadable !== null) return this.#refuseAndKeep(out, ws, req, req.unreadable.error, receivedAt);
    const size = checkBatchSize(req);
    if (!size.ok) return this.#refuseAndKeep(out, ws, req, size.error, receivedAt);
    this.metrics.batchSize(req.dialect, req.items.length);
    const quota = await checkQuota(this.#quota, ws, req.items.length);
    if (!quota.ok) return this.#refuseAndKeep(out, ws, req, quota.error, receivedAt);

    const prepared: Prepared[] = [];
    const rejected: RejectedResult[] = [];
    req.items.forEach((item, index) => {
      const draft = req.toDraft(item, {
        now: receivedAt, settings: ws.settings, explicitSettings: ws.workspace.settings, index,
        at: req.batch ? `events[${index}].` : '',
        idempotencyKeyHeader: req.batch ? null : req.idempotencyKeyHeader,
      });
      if (!draft.ok) {
        rejected.push({ index, status: 'rejected', error: { ...draft.error, ...(req.batch ? { index } : {}) } });
        return;
      }
      prepared.push(this.#prepare(draft.value, ws, req, receivedAt, index, item));
    });

    if (req.dryRun) {
      const events = prepared.map((p) => p.event);
      out.dryRun = { wouldStore: events, attribution: this.preview === null ? events.map(() => null) : await this.preview(ws.workspace.id, events) };
      out.results = await this.#dryRunResults(prepared, rejected, req);
      return out;
    }

    const rejections = !req.quarantine ? [] : rejected.map((r) => this.#rejection(ws, req, receivedAt, req.batch ? r.index : null, r.error, req.items[r.index]));
    let outcomes;
    try {
      outcomes = await this.store.events.append({ events: prepared.map((p) => p.event), rejections });
    } catch (err) {
      throw err instanceof ServiceError ? err : new ServiceError('store_unavailable', 'The store could not write this request; nothing was stored. Retry.', { cause: err });
    }

    const results: EventResult[] = [...rejected];
    const conflicts: NewRejection[] = [];
    let stored = 0;
    let duplicates = 0;
    outcomes.forEach((o, i) => {
      const p = prepared[i]!;
      if (o.status === 'existing' && this.#differs(o.event, p)) {
        const error = this.#conflict(o.event, p, req);
        results.push({ index: p.index, status: 'rejected', error });
        conflicts.push(this.#rejection(ws, req, receivedAt, req.batch ? p.index : null, error, p.raw));
      } else {
        const status = o.status === 'existing' ? 'duplicate' : 'stored';
        results.push({ index: p.index, status, event: o.event });
        if (status === 'stored') stored++;
        else duplicates++;
      }
    });
    if (conflicts.length > 0 && req.quarantine) {
      try {
        await this.store.events.append({ events: [], rejections: conflicts });
      } catch (err) {
        // The request's new events are durable: answering 503 ("nothing was stored") would be
        // false. Only when nothing new was stored is the request refused, to be retried whole.
        if (stored === 0) throw err instanceof ServiceError ? err : new ServiceError('store_unavailable', 'The store could not write this request; nothing was stored. Retry.', { cause: err });
      }
    }
    results.sort((a, b) => a.index - b.index);
    this.#quota.add(ws.workspace.id, stored);
    this.metrics.accepted(req.dialect, stored);
    if (duplicates > 0) this.metrics.duplicate(req.dialect, duplicates);
    for (const r of results) if (r.status === 'rejected') this.metrics.rejected(req.dialect, r.error.code, 1);
    out.results = results;
    return out;
  }

  #prepare(d: EventDraft, ws: ResolvedWorkspace, req: IngestRequest, receivedAt: number, index: number, raw: unknown): Prepared {
    let context = d.context;
    const ipSource = d.context?.ip ?? req.clientIp;
    if (ipSource !== null && ipSource !== undefined) {
      const { ip: _raw, ...rest } = d.context ?? {};
      const ip = truncateIp(ipSource);
      context = ip === null ? rest : { ...rest, ip };
    }
    if (req.userAgent !== null && context?.userAgent === undefined) context = { ...context, userAgent: req.userAgent.slice(0, 512) };
    // Page addresses and referrers carry emails in their query strings (?email=…): hashed like any property.
    context = scrubContext(context ?? null);
    const event: CanonicalEvent = {
      workspaceId: ws.workspace.id,
      type: d.type,
      name: d.name,
      occurredAt: d.occurredAt,
      receivedAt,
      // An email or phone number used as an identifier is stored as its hash (pseudonymiseId).
      idempotencyKey: pseudonymiseIdOrNull(d.idempotencyKey),
      visitorId: pseudonymiseIdOrNull(d.visitorId),
      sessionId: pseudonymiseIdOrNull(d.sessionId),
      userDomain: d.userDomain,
      userId: pseudonymiseIdOrNull(d.userId),
      optimization: d.optimization,
      variation: d.variation,
      value: d.value,
      currency: d.currency,
      properties: scrubProperties(d.properties),
      userData: d.userData === null ? null : hashUserData(d.userData),
      context: context === null || Object.keys(context).length === 0 ? null : context,
      source: req.dialect,
    };
    return { index, event, timestampGiven: d.timestampGiven, raw, keyHashed: event.idempotencyKey !== d.idempotencyKey };
  }

  #conflict(first: StoredEvent, p: Prepared, req: IngestRequest): IngestError {
    const names = differingFields(first, p.event, p.timestampGiven).map((f) => req.fieldNames[f] ?? f);
    const key = p.event.idempotencyKey ?? '';
    const where = req.batch ? `events[${p.index}]: ` : '';
    return ingestError('idempotency_conflict',
      `${where}${req.idempotencyField} "${key.slice(0, 100)}"${p.keyHashed ? ' (the email or phone number in it kept as its hash)' : ''} was already used for a different event; these fields differ: ${names.join(', ')}. Send a new ${req.idempotencyField} for a new event.`,
      { fields: names, field: req.batch ? `events[${p.index}].${req.idempotencyField}` : req.idempotencyField, ...(req.batch ? { index: p.index } : {}) });
  }

  /**
   * Whether an event differs from the first one stored with its key (a 409) or repeats it (answered
   * like the first). A time the retry left out is not compared (EventDraft.timestampGiven).
   */
  #differs(first: StoredEvent, p: Prepared): boolean {
    return differingFields(first, p.event, p.timestampGiven).length > 0;
  }

  async #dryRunResults(prepared: Prepared[], rejected: EventResult[], req: IngestRequest): Promise<EventResult[]> {
    const results: EventResult[] = [...rejected];
    for (const p of prepared) {
      const first = p.event.idempotencyKey === null ? null : await this.store.events.findByIdempotencyKey(p.event.workspaceId, p.event.idempotencyKey);
      // Answered as the real request would be: a reused key with other content is a conflict.
      results.push(first === null
        ? { index: p.index, status: 'stored', event: { ...p.event, id: 0 } }
        : this.#differs(first, p)
          ? { index: p.index, status: 'rejected', error: this.#conflict(first, p, req) }
          : { index: p.index, status: 'duplicate', event: first });
    }
    return results.sort((a, b) => a.index - b.index);
  }

  #rejection(ws: ResolvedWorkspace, req: IngestRequest, receivedAt: number, index: number | null, error: IngestError, raw: unknown): NewRejection {
    let text = typeof raw === 'string' ? redactText(raw) : JSON.stringify(redactRaw(raw)) ?? 'null';
    if (text.length > RAW_LIMIT) text = text.slice(0, RAW_LIMIT);
    return {
      workspaceId: ws.workspace.id, receivedAt, dialect: req.dialect, route: req.route, index,
      code: error.code, message: redactText(error.message), field: error.field ?? null, raw: text,
    };
  }

  #refuse(out: IngestOutcome, req: IngestRequest, error: IngestError): IngestOutcome {
    this.metrics.rejected(req.dialect, error.code, Math.max(1, req.items.length));
    out.error = error;
    return out;
  }

  /** Refuses the whole request and keeps what was sent in the quarantine, durably, before answering. */
  async #refuseAndKeep(out: IngestOutcome, ws: ResolvedWorkspace, req: IngestRequest, error: IngestError, receivedAt: number): Promise<IngestOutcome> {
    this.#refuse(out, req, error);
    if (req.dryRun || !req.quarantine) return out;
    const raw = req.unreadable?.raw ?? (req.batch ? { events: req.items } : req.items[0]);
    await this.store.events.append({ events: [], rejections: [this.#rejection(ws, req, receivedAt, null, error, raw)] });
    return out;
  }
}

export type { RateLimitState };
