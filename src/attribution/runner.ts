import { availableParallelism } from 'node:os';
import { ServiceError, type Clock } from '../core/index.js';
import {
  WorkspaceWords, type AttributionRun, type DataQualityFigures, type RunWrites, type StoredOutcome, type Store,
} from '../store/index.js';
import { CHUNK, judgeRange } from './judge-range.js';
import { JUDGE_ON_TWO_THREADS_FROM, judgeOnTwoThreads, shareable } from './judge-thread.js';
import { indexOnce, type IndexExecutor, type IndexSummary } from './indexer.js';
import { withRunLease } from './lease.js';
import { loadForRun } from './snapshot.js';

export interface RunOptions {
  /** Events received up to this instant are considered; default: now. */
  until?: number;
  mode?: 'full' | 'incremental';
  /** Told how far the run is: after loading, then every 10,000 conversions judged. */
  onProgress?: (done: number, total: number) => void;
  /**
   * When a run judges on two threads (judge-thread.ts): from how many conversions (default
   * JUDGE_ON_TWO_THREADS_FROM), in chunks of how many (default CHUNK), the last chunk kept for the
   * second thread or not (default). Tests make small runs use both.
   */
  twoThreads?: { from?: number; chunk?: number; keepLast?: boolean };
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
  /** Per workspace, the last run or indexing asked for here: the next waits for it. */
  readonly #running = new Map<string, Promise<unknown>>();
  readonly #execute: RunExecutor;
  readonly #index: IndexExecutor;

  /**
   * `onRun`: told of every run's end, whether it committed, and of which workspace. `execute` and
   * `index` carry out runs and indexing (default: here, on this thread).
   */
  constructor(
    store: Store, private readonly clock: Clock, private readonly onRun: (ok: boolean, workspaceId: string) => void = () => {},
    execute?: RunExecutor, index?: IndexExecutor,
  ) {
    this.#execute = execute ?? ((ws, options) => runOnce(store, clock, ws, options));
    this.#index = index ?? ((ws) => indexOnce(store, clock, ws));
  }

  run(workspaceId: string, options: RunOptions = {}): Promise<RunSummary> {
    return this.#queue(workspaceId, async () => {
      try {
        const summary = await this.#execute(workspaceId, { ...options, startedAt: this.clock.now() });
        this.onRun(true, workspaceId);
        return summary;
      } catch (err) {
        this.onRun(false, workspaceId);
        throw err;
      }
    });
  }

  /**
   * Brings the workspace's snapshot up to date with the events stored since it (indexOnce), after
   * any run or indexing asked for before; a run asked for meanwhile waits for it, and starts from it.
   */
  index(workspaceId: string): Promise<IndexSummary> {
    return this.#queue(workspaceId, () => this.#index(workspaceId, this.clock.now()));
  }

  #queue<T>(workspaceId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#running.get(workspaceId) ?? Promise.resolve(null);
    const next = previous.catch(() => null).then(task);
    this.#running.set(workspaceId, next);
    const clear = () => { if (this.#running.get(workspaceId) === next) this.#running.delete(workspaceId); };
    next.then(clear, clear);
    return next;
  }
}

/**
 * One run, here and now: take the workspace's lease (one run or indexing at a time, across processes), load,
 * judge every conversion, commit what changed, release the lease.
 */
export async function runOnce(store: Store, clock: Clock, workspaceId: string, options: RunOptions & { startedAt: number }): Promise<RunSummary> {
  const ran = await withRunLease(store, clock, workspaceId, async () => {
    // Ingestion leaves one small chunk per group commit; merging them first makes this and every later read cheap.
    await store.attribution.compactColumns(workspaceId);
    return await judgeAndCommit(store, clock, workspaceId, options);
  });
  if (ran === null) throw new ServiceError('run_in_progress', `An attribution run of workspace "${workspaceId}" is already in progress (or the indexing of its events, which takes seconds); wait for it to finish.`);
  return ran;
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
 * Judges every conversion (judge-range.ts). A large run that started from a snapshot judges them
 * on two threads, this one and another over the same memory (judge-thread.ts); the answer is the
 * one a single thread gives.
 */
async function judgeAll(store: Store, workspaceId: string, until: number, options: RunOptions): Promise<Judged> {
  const loaded = await loadForRun(store, workspaceId, until, () => store.attribution.fingerprints(workspaceId));
  // Stored outcomes by fingerprint, in event id order: an unchanged outcome costs a number compared.
  const before = loaded.alongside;
  const { ctx, conversions } = loaded;
  const total = conversions.length;
  // Optimization keys, variation names and reasons by number (the workspace's words, outcome-bytes.ts).
  const words = new WorkspaceWords(await store.attribution.words(workspaceId), ctx.activity);
  const progress = options.onProgress;
  progress?.(0, total);
  const twoThreads = total >= (options.twoThreads?.from ?? JUDGE_ON_TWO_THREADS_FROM) && availableParallelism() >= 2 && shareable(ctx.activity, conversions);
  const judged = twoThreads
    ? await judgeOnTwoThreads(ctx, loaded.rules, conversions, before, words, (done) => { if (done < total) progress?.(done, total); }, {
      chunk: options.twoThreads?.chunk ?? CHUNK, keepLast: options.twoThreads?.keepLast ?? false,
    })
    : judgeRange(ctx, conversions, before, words, (done) => progress?.(done, total));
  const { writes, rewritten, withdrawn, attributed, quality } = judged;
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
    if (old.reason === reason && sameAttributions(old.attributions, writes.attributions(i))) continue;
    writes.restate(i, old);
    if (reason === null && old.outcome !== 'attributed') newlyAttributed++;
    if (reason !== null && old.outcome === 'attributed') unattributed++;
  }
  for (const eventId of withdrawn) {
    const old = olds.get(eventId)!;
    writes.withdraw(eventId, old);
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

/** Whether two lists of attributions name the same views, in the same order. */
function sameAttributions(a: StoredOutcome['attributions'], b: StoredOutcome['attributions']): boolean {
  return a.length === b.length && a.every((x, k) => {
    const y = b[k]!;
    return x.optimization === y.optimization && x.variation === y.variation && x.viewedAt === y.viewedAt && x.visitorId === y.visitorId;
  });
}
