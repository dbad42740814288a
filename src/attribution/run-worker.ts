import { parentPort, workerData } from 'node:worker_threads';
import { ServiceError, ShiftedClock } from '../core/index.js';
import { openSqliteStore } from '../store/index.js';
import { indexOnce } from './indexer.js';
import { runOnce } from './runner.js';
import type { RunWorkerInit, RunWorkerMessage } from './worker-executor.js';

/**
 * One attribution run (or indexing, indexer.ts) on its own thread and connection, so a long run
 * never holds up the service's event loop (ingestion keeps answering meanwhile). Its clock starts at the instant
 * the main thread started the run and then runs normally.
 */
const init = workerData as RunWorkerInit;
const port = parentPort!;
const store = openSqliteStore({
  file: init.file, commit: { maxWaitMs: 0, maxRows: 5000, maxPending: 1 }, quarantineMaxPerWorkspace: 0, now: init.startedAt,
});
try {
  if (init.task === 'index') {
    const summary = await indexOnce(store, new ShiftedClock(init.startedAt), init.workspaceId);
    port.postMessage({ type: 'indexed', summary } satisfies RunWorkerMessage);
  } else {
    const summary = await runOnce(store, new ShiftedClock(init.startedAt), init.workspaceId, {
      startedAt: init.startedAt,
      ...(init.until !== undefined ? { until: init.until } : {}),
      ...(init.mode !== undefined ? { mode: init.mode } : {}),
      onProgress: (done, total) => port.postMessage({ type: 'progress', done, total } satisfies RunWorkerMessage),
    });
    port.postMessage({ type: 'done', summary } satisfies RunWorkerMessage);
  }
} catch (err) {
  port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err), code: err instanceof ServiceError ? err.code : null } satisfies RunWorkerMessage);
} finally {
  await store.close();
}
