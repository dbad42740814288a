import { parentPort, workerData } from 'node:worker_threads';
import { ActivityIndex } from './activity.js';
import { Conversions } from './conversions.js';
import { judgeRange } from './judge-range.js';
import type { JudgeJob, JudgeMessage } from './judge-thread.js';

/**
 * Judges a range of a run's conversions on a thread of its own (judge-thread.ts): the index and
 * the conversions are adopted as they are, in the memory they share with the run's thread; the
 * outcomes' bytes move back with the answer.
 */
const job = workerData as JudgeJob;
const port = parentPort!;
const judged = new Int32Array(job.judged);
try {
  const activity = ActivityIndex.fromParts(job.rules, job.activity);
  const conversions = Conversions.fromParts(activity, job.conversions.arrays, job.conversions.names);
  const r = judgeRange({ goalsByName: job.goalsByName, optimizations: job.optimizations, activity }, conversions, job.from, job.to, job.before, (n) => Atomics.store(judged, 0, n));
  const writes = r.writes.parts();
  const quality = r.quality.parts();
  const moved = [...writes.blocks, writes.eventId, writes.fingerprint, writes.goalId, writes.block, writes.start, writes.split, writes.end, ...quality.lags.map(([, lags]) => lags)].map((a) => a.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
  port.postMessage({ type: 'done', writes, rewritten: r.rewritten, withdrawn: r.withdrawn, attributed: r.attributed, quality } satisfies JudgeMessage, [...new Set(moved)]);
} catch (err) {
  port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies JudgeMessage);
}
