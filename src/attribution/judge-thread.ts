import { siblingModule, spawnWorker } from '../core/index.js';
import { isShared } from '../core/column.js';
import type { Fingerprints } from '../store/index.js';
import type { Goal } from '../store/types.js';
import type { ActivityIndex } from './activity.js';
import type { Conversions } from './conversions.js';
import type { EngineContext, OptimizationGoals } from './engine.js';
import type { JudgedChunks } from './judge-range.js';
import type { SessionRules } from './sessions.js';

/**
 * Runs with at least this many conversions judge them on two threads: starting the second (its
 * modules, the index adopted from shared memory) costs a few hundredths of a second, and judging
 * a hundred thousand conversions about a tenth.
 */
export const JUDGE_ON_TWO_THREADS_FROM = 100_000;

export interface JudgeJob {
  rules: SessionRules;
  goalsByName: ReadonlyMap<string, readonly Goal[]>;
  optimizations: readonly OptimizationGoals[];
  /** ActivityIndex.parts() and Conversions.parts(), in shared memory. */
  activity: ReturnType<ActivityIndex['parts']>;
  conversions: ReturnType<Conversions['parts']>;
  before: Fingerprints;
  /** Conversions a chunk holds. */
  chunk: number;
  /** Two Int32 in shared memory, shared by both threads: the next chunk to claim, and how many conversions are judged. */
  counters: SharedArrayBuffer;
}

export type JudgeMessage = ({ type: 'done' } & JudgedChunks) | { type: 'failed'; message: string };

/** Whether a run's index and conversions are all in shared memory, so a second thread can judge over them as they are. */
export function shareable(activity: ActivityIndex, conversions: Conversions): boolean {
  return activity.parts().every(isShared) && conversions.parts().arrays.every(isShared);
}

/** Chunks of a run's conversions claimed in turn by two threads: this one, and the one judgeOnThread() starts. */
export class ChunkCounters {
  readonly #counts: Int32Array;

  /** `buffer`: the counters another thread made (JudgeJob.counters); by default, new ones. */
  constructor(readonly buffer = new SharedArrayBuffer(8)) {
    this.#counts = new Int32Array(buffer);
  }

  /** The next chunk to judge (past the last: none left). */
  claim(): number {
    return Atomics.add(this.#counts, 0, 1);
  }

  /** Counts n more conversions judged, by either thread. */
  judged(n: number): number {
    return Atomics.add(this.#counts, 1, n) + n;
  }
}

/** A second thread judging chunks of a run's conversions: `done` gives what it judged. */
export interface JudgingThread {
  done: Promise<JudgedChunks>;
  stop(): void;
}

/**
 * Starts a thread of its own (judge-worker.ts) judging the chunks of a run's conversions it claims
 * from `counters`, then the last one (kept for it), over the very memory of this thread's index and conversions (nothing
 * is copied but the stored outcomes' fingerprints), while this thread claims and judges others.
 */
export function judgeOnThread(ctx: EngineContext, rules: SessionRules, conversions: Conversions, before: Fingerprints, chunk: number, counters: ChunkCounters): JudgingThread {
  const job: JudgeJob = {
    rules, goalsByName: ctx.goalsByName, optimizations: ctx.optimizations, activity: ctx.activity.parts(), conversions: conversions.parts(), before, chunk,
    counters: counters.buffer,
  };
  const worker = spawnWorker(siblingModule(import.meta.url, 'judge-worker'), job);
  let settled = false;
  const done = new Promise<JudgedChunks>((resolve, reject) => {
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(err);
    };
    worker.once('message', (m: JudgeMessage) => {
      if (m.type === 'failed') return fail(new Error(`Judging conversions on a second thread failed: ${m.message}`));
      settled = true;
      resolve(m);
    });
    worker.once('error', fail);
    worker.once('exit', (code) => fail(new Error(`The thread judging conversions stopped (exit code ${code}) before it finished.`)));
  });
  done.catch(() => {}); // awaited by the caller once it has no chunk left to judge
  return {
    done,
    stop: () => {
      settled = true;
      void worker.terminate();
    },
  };
}
