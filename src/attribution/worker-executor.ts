import { ServiceError, siblingModule, spawnWorker, type ErrorCode } from '../core/index.js';
import type { IndexExecutor, IndexSummary } from './indexer.js';
import type { RunExecutor, RunSummary } from './runner.js';

export interface RunWorkerInit {
  /** A run (the default), or indexing (indexer.ts). */
  task?: 'run' | 'index';
  file: string;
  workspaceId: string;
  startedAt: number;
  until?: number;
  mode?: 'full' | 'incremental';
}

export type RunWorkerMessage =
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; summary: RunSummary }
  | { type: 'indexed'; summary: IndexSummary }
  | { type: 'failed'; message: string; code: ErrorCode | null };

/** Runs each attribution run in a worker thread on the SQLite file `file` (see run-worker.ts). */
export function workerExecutor(file: string): RunExecutor {
  return (workspaceId, options) => inWorker<RunSummary>({
    file, workspaceId, startedAt: options.startedAt,
    ...(options.until !== undefined ? { until: options.until } : {}),
    ...(options.mode !== undefined ? { mode: options.mode } : {}),
  }, (m) => (m.type === 'done' ? m.summary : null), options.onProgress);
}

/** Indexes a workspace in a worker thread on the SQLite file `file`, as workerExecutor runs it. */
export function workerIndexer(file: string): IndexExecutor {
  return (workspaceId, startedAt) => inWorker<IndexSummary>({ task: 'index', file, workspaceId, startedAt }, (m) => (m.type === 'indexed' ? m.summary : null));
}

function inWorker<T>(init: RunWorkerInit, answer: (m: RunWorkerMessage) => T | null, onProgress?: (done: number, total: number) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const worker = spawnWorker(siblingModule(import.meta.url, 'run-worker'), init);
    worker.on('message', (m: RunWorkerMessage) => {
      if (m.type === 'progress') onProgress?.(m.done, m.total);
      else {
        settled = true;
        if (m.type === 'failed') reject(m.code === null ? new Error(m.message) : new ServiceError(m.code, m.message));
        else {
          const summary = answer(m);
          if (summary === null) reject(new Error(`The attribution worker answered "${m.type}" to a task of "${init.task ?? 'run'}".`));
          else resolve(summary);
        }
      }
    });
    worker.once('error', (err) => { settled = true; reject(err); });
    worker.once('exit', (code) => { if (!settled) reject(new Error(`The attribution worker stopped (exit ${code}) before the ${init.task === 'index' ? 'indexing' : 'run'} finished; the previous outcomes stand.`)); });
  });
}
