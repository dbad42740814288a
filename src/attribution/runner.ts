import { randomUUID } from 'node:crypto';
import { processIdentity, ServiceError, type Clock } from '../core/index.js';
import {
  attributionsJson, RunWrites, summaryJson, summaryJsonOf, type AttributionRun, type DataQualityFigures, type Store,
} from '../store/index.js';
import { availableParallelism } from 'node:os';
import { fingerprintsBetween, firstAtOrAbove, judgeRange, type JudgedRange } from './judge-range.js';
import { JUDGE_ON_TWO_THREADS_FROM, judgeOnThread, shareable } from './judge-thread.js';
import { loadForRun } from './snapshot.js';

export interface RunOptions {
  /** Events received up to this instant are considered; default: now. */
  until?: number;
  mode?: 'full' | 'incremental';
  /** Told how far the run is: after loading, then every 10,000 conversions judged. */
  onProgress?: (done: number, total: number) => void;
  /** Runs with at least this many conversions judge part of them on a second thread (JUDGE_ON_TWO_THREADS_FROM; tests set fewer). */
  judgeOnTwoThreadsFrom?: number;
}

/** What `POST …/attribution/run` and `closeloop attribute` answer. */
export type RunSummary = Pick<AttributionRun, 'conversionsProcessed' | 'attributed' | 'notAttributed' | 'changed' | 'newlyAttributed' | 'unattributed'> & {
  runId: number;
  durationMs: number;
};

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

  /** `onRun`: told of every run's end, whether it committed, and of which workspace. */
  constructor(store: Store, private readonly clock: Clock, private readonly onRun: (ok: boolean, workspaceId: string) => void = () => {}, execute?: RunExecutor) {
    this.#execute = execute ?? ((ws, options) => runOnce(store, clock, ws, options));
  }

  run(workspaceId: string, options: RunOptions = {}): Promise<RunSummary> {
    const previous = this.#running.get(workspaceId) ?? Promise.resolve(null);
    const next = previous.catch(() => null).then(async () => {
      try {
        const summary = await this.#execute(workspaceId, { ...options, startedAt: this.clock.now() });
        this.onRun(true, workspaceId);
        return summary;
      } catch (err) {
        this.onRun(false, workspaceId);
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
  const holder = `${processIdentity()}:${randomUUID()}`;
  if (!(await store.attribution.acquireRunLease(workspaceId, holder, clock.now(), clock.now() + LEASE_MS))) {
    throw new ServiceError('run_in_progress', `An attribution run of workspace "${workspaceId}" is already in progress; wait for it to finish.`);
  }
  try {
    // Ingestion leaves one small chunk per group commit; merging them first makes this and every later read cheap.
    await store.attribution.compactColumns(workspaceId);
    return await judgeAndCommit(store, clock, workspaceId, options);
  } finally {
    await store.attribution.releaseRunLease(workspaceId, holder);
  }
}

/**
 * What judging every conversion found: the outcomes to write, the stored ones they replace, those
 * to withdraw; and the snapshot of what it loaded, to write for the next run.
 */
interface Judged {
  writes: RunWrites; rewritten: number[]; withdrawn: number[]; attributed: number; total: number; quality: DataQualityFigures;
  /** Writes the snapshot of what it loaded for the next run (null: none due). */
  saveSnapshot: (() => Promise<void>) | null;
}

/**
 * Judges every conversion. A large run judges its last conversions on a second thread meanwhile
 * (judge-thread.ts), over the same memory; the answer is the one a single thread gives, put
 * together in event id order.
 */
async function judgeAll(store: Store, workspaceId: string, until: number, options: RunOptions): Promise<Judged> {
  const loaded = await loadForRun(store, workspaceId, until, () => store.attribution.fingerprints(workspaceId));
  const before = loaded.alongside;
  const total = loaded.conversions.length;
  const conversions = loaded.conversions;
  options.onProgress?.(0, total);
  const from = options.judgeOnTwoThreadsFrom ?? JUDGE_ON_TWO_THREADS_FROM;
  // Half each: the second thread starts later (a tenth of a second) but judges a little faster (a younger heap).
  const split = total >= from && availableParallelism() >= 2 && shareable(loaded.ctx.activity, conversions) ? Math.floor(total / 2) : total;
  // The stored fingerprints split where the conversions do (by event id).
  const beforeSplit = split < total ? firstAtOrAbove(before.ids, conversions.idAt(split)) : before.ids.length;
  const other = split < total
    ? judgeOnThread(loaded.ctx, loaded.rules, conversions, split, total, fingerprintsBetween(before, beforeSplit, before.ids.length, true))
    : null;
  let mine: JudgedRange;
  try {
    mine = judgeRange(loaded.ctx, conversions, 0, split, fingerprintsBetween(before, 0, beforeSplit), (n) => {
      if (n < split) options.onProgress?.(n + (other?.judged() ?? 0), total);
    });
  } catch (err) {
    other?.stop();
    throw err;
  }
  const { writes, rewritten, withdrawn, quality } = mine;
  let attributed = mine.attributed;
  if (other !== null) {
    const theirs = await other.done;
    writes.append(theirs.writes);
    rewritten.push(...theirs.rewritten);
    withdrawn.push(...theirs.withdrawn);
    attributed += theirs.attributed;
    quality.merge(theirs.quality);
  }
  return { writes, rewritten, withdrawn, attributed, total, quality: quality.figures(), saveSnapshot: loaded.save };
}

async function judgeAndCommit(store: Store, clock: Clock, workspaceId: string, options: RunOptions & { startedAt: number }): Promise<RunSummary> {
  const startedAt = options.startedAt;
  const t0 = performance.now();
  const until = options.until ?? startedAt;
  // Judged in a function of its own: nothing here holds on to the workspace's events in memory
  // while the outcomes are serialised and written, but the snapshot's save (written after the
  // commit, when one is due).
  const { writes, rewritten, withdrawn, attributed, total, quality, saveSnapshot } = await judgeAll(store, workspaceId, until, options);
  // Withdrawn: had an outcome but is no longer a conversion (a custom event whose name stopped
  // naming a goal at its time), so a rerun agrees with a recompute from scratch.
  const olds = await store.attribution.outcomesOf(workspaceId, [...rewritten, ...withdrawn]);
  let newlyAttributed = 0;
  let unattributed = 0;
  for (let i = 0; i < writes.length; i++) {
    const old = olds.get(writes.eventId(i));
    const reason = writes.reason(i);
    if (old === undefined) {
      writes.restate(i, null);
      if (reason === null) newlyAttributed++;
      continue;
    }
    // Only what a conversion counts for is a restatement; a changed explanation alone is not.
    const oldAttributions = attributionsJson(old.attributions);
    if (old.reason === reason && oldAttributions === writes.attributionsText(i)) continue;
    writes.restate(i, summaryJson(old.reason, oldAttributions));
    if (reason === null && old.outcome !== 'attributed') newlyAttributed++;
    if (reason !== null && old.outcome === 'attributed') unattributed++;
  }
  for (const eventId of withdrawn) {
    const old = olds.get(eventId)!;
    writes.withdraw(eventId, summaryJsonOf(old));
    if (old.outcome === 'attributed') unattributed++;
  }
  options.onProgress?.(total, total);
  const run = await store.attribution.commitRun({
    workspaceId, mode: options.mode ?? 'full', until, startedAt, finishedAt: clock.now(),
    conversionsProcessed: total, attributed, notAttributed: total - attributed,
    changed: writes.changes, newlyAttributed, unattributed,
  }, writes, quality);
  // The run is done once its outcomes are committed. Its snapshot is written after that (the
  // shelf keeps track: the next run here, and closing the store, wait for it); one that fails to
  // be written only leaves the next run more to read, and says so on stderr.
  saveSnapshot?.().catch((err: unknown) => process.emitWarning(
    `The attribution snapshot of workspace "${workspaceId}" was not written (${err instanceof Error ? err.message : String(err)}); the next run reads every event since the last one.`,
    { code: 'CLOSELOOP_SNAPSHOT' },
  ));
  return {
    runId: run.id, conversionsProcessed: run.conversionsProcessed, attributed, notAttributed: run.notAttributed,
    changed: run.changed, newlyAttributed, unattributed, durationMs: Math.round(performance.now() - t0),
  };
}
