import { siblingModule, spawnWorker } from '../core/spawn-worker.js';
import type { WorkspaceWords } from '../store/outcome-bytes.js';
import type { Fingerprints, Goal } from '../store/types.js';
import type { ActivityIndex } from './activity.js';
import { isShared } from './columns.js';
import type { Conversions } from './conversions.js';
import type { EngineContext, OptimizationGoals } from './engine.js';
import { chunkCount, judgeChunks, judgeRange, mergeChunks, type JudgedChunks, type JudgedRange, type SentChunks } from './judge-range.js';
import { REASON_CODES } from './reasons.js';
import type { SessionRules } from './sessions.js';

/**
 * Runs with at least this many conversions judge them on two threads. The second has judged its
 * first chunk only 170–200 ms after it was started (starting it, then code not yet optimized), and
 * this one is slower meanwhile: at 100,000 conversions judging took 0.19–0.25 s on two threads
 * against 0.13–0.14 s on one; at a million, 0.6–0.7 s against 0.85–1.0 s (measured here; between
 * the two, a straight line through both puts the break-even near 250,000, not measured).
 */
export const JUDGE_ON_TWO_THREADS_FROM = 300_000;

/** What the second thread is given (as its workerData). */
export interface JudgeJob {
  rules: SessionRules;
  goalsByName: ReadonlyMap<string, readonly Goal[]>;
  optimizations: readonly OptimizationGoals[];
  /** ActivityIndex.parts() and Conversions.parts(), in shared memory. */
  activity: ReturnType<ActivityIndex['parts']>;
  conversions: ReturnType<Conversions['parts']>;
  before: Fingerprints;
  /** The workspace's words as the run numbered them when it started this thread, which adds none (WorkspaceWords). */
  words: readonly string[];
  /** Conversions a chunk holds. */
  chunk: number;
  /** Whether the last chunk is kept for this thread (ChunkClaims.last). */
  keepLast: boolean;
  /** Two Int32 in shared memory, shared by both threads: the next chunk to claim, and how many conversions are judged. */
  counters: SharedArrayBuffer;
}

export type JudgeMessage = ({ type: 'done' } & SentChunks) | { type: 'failed'; message: string };

/**
 * Whether a run's index and conversions are all in shared memory, so a second thread can judge
 * over them as they are: a run that started from a snapshot (read into shared memory, snapshot.ts).
 */
export function shareable(activity: ActivityIndex, conversions: Conversions): boolean {
  return activity.isShared() && conversions.parts().arrays.every(isShared);
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

  /** Counts n more conversions judged, by either thread; answers how many are. */
  judged(n: number): number {
    return Atomics.add(this.#counts, 1, n) + n;
  }
}

/** A second thread judging chunks of a run's conversions: `done` gives what it judged. */
export interface JudgingThread {
  done: Promise<SentChunks>;
  stop(): void;
}

/**
 * Starts a thread of its own (judge-worker.ts) judging the chunks of a run's conversions it claims
 * from `counters` (then the last one, when `keepLast` kept it for it), over the very memory of this
 * thread's index and conversions (nothing is copied but the stored outcomes' fingerprints), while
 * this thread claims and judges others.
 */
export function judgeOnThread(
  ctx: EngineContext, rules: SessionRules, conversions: Conversions, before: Fingerprints, words: readonly string[], chunk: number, counters: ChunkCounters,
  keepLast: boolean,
): JudgingThread {
  const job: JudgeJob = {
    rules, goalsByName: ctx.goalsByName, optimizations: ctx.optimizations, activity: ctx.activity.parts(), conversions: conversions.parts(), before, words, chunk,
    keepLast, counters: counters.buffer,
  };
  const worker = spawnWorker(siblingModule(import.meta.url, 'judge-worker'), job);
  let settled = false;
  const done = new Promise<SentChunks>((resolve, reject) => {
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

/** How judgeOnTwoThreads() shares out a run's conversions. */
export interface TwoThreads {
  /** Conversions a chunk holds. */
  chunk: number;
  /** Keep the last chunk for the second thread (ChunkClaims.last; tests). */
  keepLast?: boolean;
  /** Starts the second thread (judgeOnThread; tests give others). */
  start?: typeof judgeOnThread;
}

/**
 * Judges a run's conversions on two threads, this one and another over the same memory, each
 * claiming chunks in turn, so that neither waits for the other: the second starts tens of
 * milliseconds later, and when this one has claimed the last chunk and the second none, it is
 * stopped rather than waited for. The answer is the one judgeRange() gives, put together in event
 * id order. The words both threads name (reasons, optimization keys, declared variations) are
 * numbered first: the second thread numbers with a fixed copy, writing any other string as text.
 * When the second thread fails, this one judges every conversion itself (and says so on stderr):
 * the run takes longer, and its answer is the same.
 */
export async function judgeOnTwoThreads(
  ctx: EngineContext, rules: SessionRules, conversions: Conversions, before: Fingerprints, words: WorkspaceWords, judged: (done: number) => void,
  { chunk, keepLast = false, start = judgeOnThread }: TwoThreads,
): Promise<JudgedRange> {
  for (const reason of REASON_CODES) words.number(reason);
  for (const o of ctx.optimizations) {
    words.number(o.key);
    for (const v of o.variations ?? []) words.number(v);
  }
  const counters = new ChunkCounters();
  const other = start(ctx, rules, conversions, before, [...words.list()], chunk, counters, keepLast);
  let mine: JudgedChunks;
  try {
    // Room for all outcomes on this side: the other's are put among them (RunWrites.interleave); pages not reached are not touched.
    mine = judgeChunks(ctx, conversions, before, words, {
      size: chunk, claim: () => counters.claim(), judged: (n) => judged(counters.judged(n)), share: 1, last: keepLast ? 'kept' : 'claimed',
    });
  } catch (err) {
    other.stop();
    throw err;
  }
  // Every chunk is claimed by now: if this thread claimed them all, the other has none to judge, nor will it.
  if (!keepLast && mine.chunks.length / 4 === chunkCount(conversions.length, chunk)) {
    other.stop();
    return mine.range;
  }
  let theirs: SentChunks;
  try {
    theirs = await other.done;
  } catch (err) {
    process.emitWarning(`${err instanceof Error ? err.message : String(err)}; this run's conversions are judged again on one thread.`, { code: 'CLOSELOOP_JUDGE_THREAD' });
    return judgeRange(ctx, conversions, before, words);
  }
  return mergeChunks(mine, theirs);
}
