import { siblingModule, spawnWorker } from '../core/index.js';
import { isShared } from '../core/column.js';
import type { Fingerprints, RunWritesParts } from '../store/index.js';
import type { Goal } from '../store/types.js';
import type { ActivityIndex } from './activity.js';
import type { Conversions } from './conversions.js';
import type { EngineContext, OptimizationGoals } from './engine.js';
import type { QualityParts } from './quality.js';
import type { SessionRules } from './sessions.js';

/**
 * Runs with at least this many conversions judge part of them on a second thread: starting one
 * (its modules, the index adopted from shared memory) costs about a tenth of a second, judging a
 * hundred thousand conversions about as much.
 */
export const JUDGE_ON_TWO_THREADS_FROM = 200_000;

export interface JudgeJob {
  rules: SessionRules;
  goalsByName: ReadonlyMap<string, readonly Goal[]>;
  optimizations: readonly OptimizationGoals[];
  /** ActivityIndex.parts() and Conversions.parts(), in shared memory. */
  activity: ReturnType<ActivityIndex['parts']>;
  conversions: ReturnType<Conversions['parts']>;
  from: number;
  to: number;
  before: Fingerprints;
  /** One Int32 in shared memory: how many of its conversions the thread has judged. */
  judged: SharedArrayBuffer;
}

export type JudgeMessage =
  | { type: 'done'; writes: RunWritesParts; rewritten: number[]; withdrawn: number[]; attributed: number; quality: QualityParts }
  | { type: 'failed'; message: string };

/** Whether a run's index and conversions are all in shared memory, so a second thread can judge over them as they are. */
export function shareable(activity: ActivityIndex, conversions: Conversions): boolean {
  return activity.parts().every(isShared) && conversions.parts().arrays.every(isShared);
}

/** A range of conversions being judged on a thread of its own: `done` gives its answer; `judged()` how far it is. */
export interface JudgingThread {
  done: Promise<Extract<JudgeMessage, { type: 'done' }>>;
  judged(): number;
  stop(): void;
}

/**
 * Judges conversions [from, to) on a thread of its own (judge-worker.ts), over the very memory of
 * this thread's index and conversions (nothing is copied but the stored fingerprints of the
 * range): while this thread judges the others.
 */
export function judgeOnThread(ctx: EngineContext, rules: SessionRules, conversions: Conversions, from: number, to: number, before: Fingerprints): JudgingThread {
  const judged = new SharedArrayBuffer(4);
  const count = new Int32Array(judged);
  const job: JudgeJob = {
    rules, goalsByName: ctx.goalsByName, optimizations: ctx.optimizations, activity: ctx.activity.parts(), conversions: conversions.parts(), from, to, before, judged,
  };
  const worker = spawnWorker(siblingModule(import.meta.url, 'judge-worker'), job);
  let settled = false;
  const done = new Promise<Extract<JudgeMessage, { type: 'done' }>>((resolve, reject) => {
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      reject(err);
    };
    worker.once('message', (m: JudgeMessage) => {
      if (m.type === 'failed') return fail(new Error(`Judging conversions ${from}-${to} on a second thread failed: ${m.message}`));
      settled = true;
      resolve(m);
    });
    worker.once('error', fail);
    worker.once('exit', (code) => fail(new Error(`The thread judging conversions ${from}-${to} stopped (exit code ${code}) before it finished.`)));
  });
  done.catch(() => {}); // awaited by the caller once its own range is judged
  return {
    done,
    judged: () => Atomics.load(count, 0),
    stop: () => {
      settled = true;
      void worker.terminate();
    },
  };
}
