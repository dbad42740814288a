import { parentPort, workerData } from 'node:worker_threads';
import { WorkspaceWords } from '../store/outcome-bytes.js';
import { ActivityIndex } from './activity.js';
import { Conversions } from './conversions.js';
import { judgeChunks, sendable } from './judge-range.js';
import { ChunkCounters, type JudgeJob, type JudgeMessage } from './judge-thread.js';

/**
 * Judges chunks of a run's conversions on a thread of its own (judge-thread.ts): the index and
 * the conversions are adopted as they are, in the memory they share with the run's thread, and
 * chunks are claimed from the counter both threads share; the outcomes' bytes move back with
 * the answer.
 */
const job = workerData as JudgeJob;
const port = parentPort!;
try {
  const activity = ActivityIndex.fromParts(job.rules, job.activity);
  const conversions = Conversions.fromParts(activity, job.conversions.arrays, job.conversions.names);
  const counters = new ChunkCounters(job.counters);
  const words = new WorkspaceWords(job.words, activity, false);
  const r = sendable(judgeChunks({ goalsByName: job.goalsByName, optimizations: job.optimizations, activity }, conversions, job.before, words, {
    size: job.chunk, claim: () => counters.claim(), judged: (n) => counters.judged(n), share: 0.55, last: job.keepLast ? 'judged' : 'claimed',
  }));
  const { writes, quality } = r;
  // Moved, not copied: each of these arrays' memory is its own (none is a pooled Buffer's).
  const moved = [...writes.blocks, writes.eventId, writes.fingerprint, writes.reason, writes.at, writes.bodyEnd, r.chunks, ...quality.lags.map(([, lags]) => lags)]
    .map((a) => a.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
  port.postMessage({ type: 'done', ...r } satisfies JudgeMessage, [...new Set(moved)]);
} catch (err) {
  port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies JudgeMessage);
}
