import { ServiceError, siblingModule, spawnWorker, type ErrorCode } from '../core/index.js';
import type { RunExecutor, RunSummary } from './runner.js';

export interface RunWorkerInit {
  file: string;
  workspaceId: string;
  startedAt: number;
  until?: number;
  mode?: 'full' | 'incremental';
}

export type RunWorkerMessage =
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; summary: RunSummary }
  | { type: 'failed'; message: string; code: ErrorCode | null };

/** Runs each attribution run in a worker thread on the SQLite file `file` (see run-worker.ts). */
export function workerExecutor(file: string): RunExecutor {
  return (workspaceId, options) => new Promise<RunSummary>((resolve, reject) => {
    const init: RunWorkerInit = {
      file, workspaceId, startedAt: options.startedAt,
      ...(options.until !== undefined ? { until: options.until } : {}),
      ...(options.mode !== undefined ? { mode: options.mode } : {}),
    };
    let settled = false;
    const worker = spawnWorker(siblingModule(import.meta.url, 'run-worker'), init);
    worker.on('message', (m: RunWorkerMessage) => {
      if (m.type === 'progress') options.onProgress?.(m.done, m.total);
      else {
        settled = true;
        if (m.type === 'done') resolve(m.summary);
        else reject(m.code === null ? new Error(m.message) : new ServiceError(m.code, m.message));
      }
    });
    worker.once('error', (err) => { settled = true; reject(err); });
    worker.once('exit', (code) => { if (!settled) reject(new Error(`The attribution worker stopped (exit ${code}) before the run finished; the previous outcomes stand.`)); });
  });
}
