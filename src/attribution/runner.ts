import { effectiveSettings } from '../config/index.js';
import { randomUUID } from 'node:crypto';
import { ServiceError, type Clock } from '../core/index.js';
import type { AttributionRun, OutcomeChange, ScannedEvent, Store, StoredOutcome } from '../store/index.js';
import { ActivityIndex } from './activity.js';
import { attributeConversion, type ConversionInput, type EngineContext, type Outcome } from './engine.js';
import { goalAt, indexGoalsByName } from './goals.js';
import type { SessionRules } from './sessions.js';

export interface RunOptions {
  /** Events received up to this instant are considered; default: now. */
  until?: number;
  mode?: 'full' | 'incremental';
  /** Told how far the run is: after loading, then every 10,000 conversions judged. */
  onProgress?: (done: number, total: number) => void;
}

/** What `POST …/attribution/run` and `closeloop attribute` answer. */
export type RunSummary = Pick<AttributionRun, 'conversionsProcessed' | 'attributed' | 'notAttributed' | 'changed' | 'newlyAttributed' | 'unattributed'> & {
  runId: number;
  durationMs: number;
};

/** Everything a run reads, loaded once: the engine's context plus the conversions to judge. */
export interface Loaded {
  ctx: EngineContext;
  rules: SessionRules;
  conversions: (ConversionInput & { value: number | null; idempotencyKey: string | null })[];
}

/** Reads a workspace's goals, optimizations and events (received up to `until`) into the engine's structures. */
export async function loadWorkspace(store: Store, workspaceId: string, until: number): Promise<Loaded> {
  const ws = await store.workspaces.get(workspaceId);
  if (ws === null) throw new Error(`Workspace "${workspaceId}" does not exist.`);
  const settings = effectiveSettings(ws.settings);
  const rules: SessionRules = { timeoutMs: settings.sessionTimeoutMinutes * 60_000, maxMs: settings.sessionMaxHours * 3_600_000 };
  const goals = await store.goals.list(workspaceId);
  const goalsByName = indexGoalsByName(goals);
  const optimizations = (await store.optimizations.list(workspaceId))
    .map((o) => ({ key: o.key, goalIds: o.goalIds }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const activity = new ActivityIndex(rules);
  const conversions: Loaded['conversions'] = [];
  const handle = (e: ScannedEvent): void => {
    activity.add(e);
    // Server-side conversions, and browser custom events named as a goal was called at the time.
    const isConversion = e.type === 'conversion' || (e.type === 'custom' && e.name !== null && 'goal' in goalAt(goalsByName, e.name, e.occurredAt));
    if (isConversion && e.name !== null) {
      conversions.push({
        id: e.id, name: e.name, occurredAt: e.occurredAt, receivedAt: e.receivedAt, visitorId: e.visitorId, sessionId: e.sessionId,
        userDomain: e.userDomain, userId: e.userId, value: e.value, idempotencyKey: e.idempotencyKey,
      });
    }
  };
  await eachEvent(store.attribution.scan(workspaceId, until), handle);
  activity.build();
  return { ctx: { goalsByName, optimizations, activity }, rules, conversions };
}

/** Visits a scan's events; a synchronous scan (SQLite) is walked without a promise per event. */
export async function eachEvent(scan: Iterable<ScannedEvent> | AsyncIterable<ScannedEvent>, fn: (e: ScannedEvent) => void): Promise<void> {
  if (Symbol.iterator in scan) {
    for (const e of scan) fn(e);
  } else {
    for await (const e of scan) fn(e);
  }
}

export function toStored(eventId: number, o: Outcome): Omit<StoredOutcome, 'runId'> {
  return o.outcome === 'attributed'
    ? { eventId, outcome: 'attributed', reason: null, goalId: o.goalId, attributions: o.attributions, detail: { visitors: o.visitors, deciding: null } }
    : { eventId, outcome: 'not_attributed', reason: o.reason, goalId: o.goalId, attributions: [], detail: { visitors: o.visitors, deciding: o.deciding } };
}

const summaryOf = (o: Pick<StoredOutcome, 'outcome' | 'reason' | 'attributions'>) => ({ outcome: o.outcome, reason: o.reason, attributions: o.attributions });
const same = (a: Omit<StoredOutcome, 'runId'>, b: StoredOutcome): boolean =>
  a.outcome === b.outcome && a.reason === b.reason && JSON.stringify(a.attributions) === JSON.stringify(b.attributions) && JSON.stringify(a.detail) === JSON.stringify(b.detail);

/** Carries out one run; in-process by default, or in a worker thread (see worker-executor.ts). */
export type RunExecutor = (workspaceId: string, options: RunOptions & { startedAt: number }) => Promise<RunSummary>;

/**
 * Attribution runs, one at a time per workspace. Each run judges every conversion received up to
 * `until` from scratch, so an incremental run and a full recompute cannot disagree; it then
 * writes only the outcomes that changed, with what changed (the restatement), in one
 * transaction — a run that dies half-way leaves the previous outcomes whole.
 */
export class AttributionRunner {
  readonly #running = new Map<string, Promise<RunSummary>>();
  readonly #execute: RunExecutor;

  constructor(store: Store, private readonly clock: Clock, private readonly onRun: (ok: boolean) => void = () => {}, execute?: RunExecutor) {
    this.#execute = execute ?? ((ws, options) => runOnce(store, clock, ws, options));
  }

  run(workspaceId: string, options: RunOptions = {}): Promise<RunSummary> {
    const previous = this.#running.get(workspaceId) ?? Promise.resolve(null);
    const next = previous.catch(() => null).then(async () => {
      try {
        const summary = await this.#execute(workspaceId, { ...options, startedAt: this.clock.now() });
        this.onRun(true);
        return summary;
      } catch (err) {
        this.onRun(false);
        throw err;
      }
    });
    this.#running.set(workspaceId, next);
    const clear = () => { if (this.#running.get(workspaceId) === next) this.#running.delete(workspaceId); };
    next.then(clear, clear);
    return next;
  }
}

/** How long a run may hold its workspace's lease before another process may take over (a run that died). */
const LEASE_MS = 30 * 60_000;

/**
 * One run, here and now: take the workspace's lease (one run at a time, across processes), load,
 * judge every conversion, commit what changed, release the lease.
 */
export async function runOnce(store: Store, clock: Clock, workspaceId: string, options: RunOptions & { startedAt: number }): Promise<RunSummary> {
  const holder = `${process.pid}:${randomUUID()}`;
  if (!(await store.attribution.acquireRunLease(workspaceId, holder, clock.now(), clock.now() + LEASE_MS))) {
    throw new ServiceError('run_in_progress', `An attribution run of workspace "${workspaceId}" is already in progress; wait for it to finish.`);
  }
  try {
    return await judgeAndCommit(store, clock, workspaceId, options);
  } finally {
    await store.attribution.releaseRunLease(workspaceId, holder);
  }
}

async function judgeAndCommit(store: Store, clock: Clock, workspaceId: string, options: RunOptions & { startedAt: number }): Promise<RunSummary> {
  const startedAt = options.startedAt;
  const t0 = performance.now();
  const until = options.until ?? startedAt;
  const loaded = await loadWorkspace(store, workspaceId, until);
  const before = await store.attribution.outcomes(workspaceId);
  const changed: Omit<StoredOutcome, 'runId'>[] = [];
  const changes: OutcomeChange[] = [];
  let attributed = 0;
  let newlyAttributed = 0;
  let unattributed = 0;
  const total = loaded.conversions.length;
  options.onProgress?.(0, total);
  for (const [i, c] of loaded.conversions.entries()) {
    if (i > 0 && i % 10_000 === 0) options.onProgress?.(i, total);
    const o = toStored(c.id, attributeConversion(c, loaded.ctx));
    if (o.outcome === 'attributed') attributed++;
    const old = before.get(c.id);
    if (old !== undefined && same(o, old)) continue;
    changed.push(o);
    if (old === undefined || summaryOf(old).outcome !== o.outcome || JSON.stringify(old.attributions) !== JSON.stringify(o.attributions) || old.reason !== o.reason) {
      changes.push({ eventId: c.id, before: old === undefined ? null : summaryOf(old), after: summaryOf(o) });
      if (o.outcome === 'attributed' && old?.outcome !== 'attributed') newlyAttributed++;
      if (o.outcome !== 'attributed' && old?.outcome === 'attributed') unattributed++;
    }
  }
  // Outcomes of events that are no longer conversions (a custom event whose name stopped naming
  // a goal at its time) are withdrawn, so a rerun agrees with a recompute from scratch.
  const current = new Set(loaded.conversions.map((c) => c.id));
  const withdrawn: number[] = [];
  for (const [eventId, old] of before) {
    if (current.has(eventId)) continue;
    withdrawn.push(eventId);
    changes.push({ eventId, before: summaryOf(old), after: null });
    if (old.outcome === 'attributed') unattributed++;
  }
  options.onProgress?.(total, total);
  const run = await store.attribution.commitRun({
    workspaceId, mode: options.mode ?? 'full', until, startedAt, finishedAt: clock.now(),
    conversionsProcessed: loaded.conversions.length, attributed, notAttributed: loaded.conversions.length - attributed,
    changed: changes.length, newlyAttributed, unattributed,
  }, changed, withdrawn, changes);
  return {
    runId: run.id, conversionsProcessed: run.conversionsProcessed, attributed, notAttributed: run.notAttributed,
    changed: run.changed, newlyAttributed, unattributed, durationMs: Math.round(performance.now() - t0),
  };
}
